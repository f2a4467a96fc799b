"""Runs the emulator in-process (threaded WSGI server plus webhook delivery) for tests and demos."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.telegram.client import TelegramSandbox
from sandbox.telegram.config import DEFAULT_TOKEN, SandboxConfig
from sandbox.telegram.server import create_app
from sandbox.telegram.state import SandboxState
from sandbox.telegram.webhook import WebhookDelivery


class _QuietRequestHandler(WSGIRequestHandler):
    """Keeps test output readable: no access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer:
    """One emulated Bot API server: state, HTTP server and webhook delivery, started together."""

    def __init__(
        self,
        config: SandboxConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
    ) -> None:
        self.config = config
        self.state = SandboxState(config)
        self._http: BaseWSGIServer = make_server(
            host,
            port,
            create_app(self.state),
            threaded=True,
            request_handler=None if access_log else _QuietRequestHandler,
        )
        self._delivery = WebhookDelivery(self.state)
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._http.server_port}"
        self.client = TelegramSandbox(self.url)

    @property
    def token(self) -> str:
        """The bot's token."""
        return self.config.token

    @property
    def api_url(self) -> str:
        """PTB's `base_url`: requests go to `<api_url><token>/<method>`."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """PTB's `base_file_url`."""
        return f"{self.url}/file/bot"

    def start(self) -> SandboxServer:
        """Serve in a background thread; answers self."""
        self._delivery.start()
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            # A short poll interval lets stop() return quickly (tests start many servers).
            kwargs={"poll_interval": 0.05},
            name="telegram-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command line)."""
        self._delivery.start()
        try:
            self._http.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, wake long polls, stop delivery and close every socket."""
        if self._thread is not None:
            self.state.close()
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self.state.close()
        self._delivery.stop()
        self._http.server_close()
        self.client.close()


def start(token: str = DEFAULT_TOKEN, *, flood: bool = False, **settings: Any) -> SandboxServer:
    """Start an emulator on a free loopback port; flood control is off unless `flood=True`.

    `settings` are other SandboxConfig fields, e.g. `callback_answer_timeout=0.2`.
    """
    config = replace(SandboxConfig(token=token), **settings)
    if not flood:
        config = config.without_flood_control()
    return SandboxServer(config).start()


@contextmanager
def running(
    token: str = DEFAULT_TOKEN, *, flood: bool = False, **settings: Any
) -> Iterator[SandboxServer]:
    """`with running() as sandbox:` an emulator for the block; see `start` for the arguments."""
    server = start(token, flood=flood, **settings)
    try:
        yield server
    finally:
        server.stop()
