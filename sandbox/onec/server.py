"""The emulator's WSGI app and server: routes, auth, faults, request log, a threaded server."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.onec import control, faults, http_service, odata, soap
from sandbox.onec.auth import authorized, basic_credentials, challenge
from sandbox.onec.model import Infobase
from sandbox.onec.push import Pusher
from sandbox.onec.seed import reseed
from sandbox.onec.state import Config, Sandbox, current

CONTROL_PREFIX = "/_sandbox"


def create_app(config: Config | None = None) -> Flask:
    """A Flask app serving one seeded infobase under `config.base`."""
    config = config or Config()
    infobase = Infobase()
    sandbox = Sandbox(config, infobase)
    reseed(sandbox)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["onec_sandbox"] = sandbox
    base = config.base
    app.register_blueprint(odata.blueprint, url_prefix=base + odata.ROOT)
    app.register_blueprint(http_service.blueprint, url_prefix=f"{base}/hs/{config.http_root}/v1")
    app.register_blueprint(soap.blueprint, url_prefix=f"{base}/ws")
    app.register_blueprint(control.blueprint, url_prefix=CONTROL_PREFIX)
    app.before_request(_require_auth)
    app.wsgi_app = _FaultsAndLog(app.wsgi_app, sandbox)  # type: ignore[method-assign]
    if config.push_url:
        pusher = Pusher(config.push_url, config.push_secret or "")
        sandbox.extras["pusher"] = pusher
        infobase.listeners.append(pusher.enqueue)
        pusher.start()
    return app


def close_app(app: Flask) -> None:
    """Stop what the app started (the pusher thread)."""
    pusher = app.extensions["onec_sandbox"].extras.get("pusher")
    if pusher is not None:
        pusher.stop()


def _require_auth() -> Response | None:
    if request.path.startswith(CONTROL_PREFIX):
        return None
    config: Config = current().config
    if not authorized(request.headers.get("Authorization"), config.user, config.password):
        return challenge()
    return None


class _FaultsAndLog:
    """Applies the injected fault to 1C routes and logs them; control routes pass untouched."""

    def __init__(self, inner: Any, sandbox: Sandbox) -> None:
        self.inner = inner
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.inner(environ, start_response)  # type: ignore[no-any-return]
        seen: dict[str, int] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status[:3])
            return start_response(status, headers, exc_info)

        fault = self.sandbox.faults.current()
        result = faults.wrap(self.inner, environ, recording, fault)
        self.sandbox.log.add(
            log_entry(
                environ.get("REQUEST_METHOD", ""),
                _wsgi_text(path),
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_AUTHORIZATION"),
                seen.get("status"),
                fault.mode,
            )
        )
        return result


def log_entry(
    method: str, path: str, query: str, authorization: str | None, status: int | None, fault: str
) -> dict[str, Any]:
    """One request log entry (status None: the connection was dropped)."""
    credentials = basic_credentials(authorization)
    return {
        "at": time.time(),
        "method": method,
        "path": path,
        "query": unquote(query),
        "status": status,
        "user": credentials[0] if credentials else None,
        "fault": fault,
    }


def _wsgi_text(value: str) -> str:
    # WSGI hands the path over as latin-1 code points of the raw UTF-8 bytes.
    return value.encode("latin-1").decode("utf-8", "replace")


class SandboxRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler plus the `down` fault: the connection is reset without an answer."""

    protocol_version = "HTTP/1.1"
    quiet = True

    def handle_one_request(self) -> None:
        """Read the request line; drop the connection if 1C is `down`, else serve as usual."""
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        sandbox: Sandbox | None = getattr(self.server, "app").extensions.get("onec_sandbox")  # noqa: B009
        if sandbox is not None and sandbox.faults.current().mode == "down" and self._is_1c_route():
            self._drop(sandbox)
            return
        if self.parse_request():
            self.run_wsgi()
            self.wfile.flush()

    def _is_1c_route(self) -> bool:
        parts = self.raw_requestline.split()
        target = parts[1].decode("latin-1") if len(parts) > 1 else ""
        return not urlsplit(target).path.startswith(CONTROL_PREFIX)

    def _drop(self, sandbox: Sandbox) -> None:
        parts = self.raw_requestline.decode("latin-1").split()
        target = urlsplit(parts[1] if len(parts) > 1 else "")
        sandbox.log.add(
            log_entry(
                parts[0] if parts else "", unquote(target.path), target.query, None, None, "down"
            )
        )
        self.close_connection = True
        # SO_LINGER 0: close() sends a reset, so the client sees a dropped connection at once.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log each request unless quiet (tests)."""
        if not self.quiet:
            super().log_request(code, size)


def build_server(app: Flask, host: str, port: int, quiet: bool = True) -> BaseWSGIServer:
    """A threaded server for the app; port 0 picks a free port."""
    handler = type("Handler", (SandboxRequestHandler,), {"quiet": quiet})
    return make_server(host, port, app, threaded=True, request_handler=handler)
