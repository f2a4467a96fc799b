"""The emulator's WSGI app and server: routes, auth, faults, request log, a threaded server."""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote_from_bytes, unquote, unquote_to_bytes, urlsplit

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.onec import control, extension_control, faults, http_service, odata, soap
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
    app.register_blueprint(extension_control.blueprint, url_prefix=CONTROL_PREFIX)
    app.before_request(_require_auth)
    app.before_request(_require_utf8)
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


def _require_utf8() -> Response | None:
    """Refuse a path or query string that is not UTF-8 once unescaped, rather than misread it."""
    environ = request.environ
    code = "6"
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        code = "14"
        unquote_to_bytes(environ.get("QUERY_STRING", "").encode("latin-1")).decode("utf-8")
    except UnicodeError:
        message = f"{'Адрес' if code == '6' else 'Строка запроса'} не в кодировке UTF-8"
        if request.path.startswith(current().config.base + odata.ROOT):
            return odata.error_response(code, message, 400)
        return Response(
            json.dumps({"error": "invalid", "message": message}, ensure_ascii=False),
            400,
            content_type="application/json; charset=utf-8",
        )
    return None


def escape_request_line(line: bytes) -> bytes:
    """Percent-encode raw non-ASCII bytes of the request target (unencoded UTF-8 from a client).

    The standard library splits the request line on Unicode whitespace after reading it as
    latin-1, and Werkzeug would read the bytes as latin-1 text: raw UTF-8 would be refused or
    silently misread. Escaped, valid UTF-8 is read as the client meant, and anything else is
    refused by `_require_utf8`.
    """
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3 or parts[1].isascii():
        return line
    target = quote_from_bytes(parts[1], safe=bytes(range(0x21, 0x7F))).encode("ascii")
    return b" ".join((parts[0], target, parts[2])) + b"\r\n"


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
        self.raw_requestline = escape_request_line(self.raw_requestline)
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
