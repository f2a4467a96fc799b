"""Runs the emulator in a background thread on a free port, for tests and the demo."""

from __future__ import annotations

import threading
from typing import Final

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from sandbox.onec.client import OneCSandbox
from sandbox.onec.model import Infobase
from sandbox.onec.server import build_server, close_app, create_app
from sandbox.onec.state import (
    DEFAULT_BASE,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DEFAULT_USER,
    Config,
    Sandbox,
)


class RunningSandbox:
    """A started emulator: `url` (server root), `base_url` (publication root), `client`."""

    def __init__(self, app: Flask, server: BaseWSGIServer, config: Config) -> None:
        self.app = app
        self.server = server
        self.config = config
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.base_url = self.url + config.base
        self.client = OneCSandbox(self.url)
        self._thread = threading.Thread(
            target=server.serve_forever, name="onec-sandbox", daemon=True
        )
        self._thread.start()

    @property
    def sandbox(self) -> Sandbox:
        """The emulator's state (for white-box checks)."""
        sandbox: Sandbox = self.app.extensions["onec_sandbox"]
        return sandbox

    @property
    def infobase(self) -> Infobase:
        """The emulated infobase."""
        return self.sandbox.infobase

    @property
    def auth(self) -> tuple[bytes, bytes]:
        """The publication's credentials as UTF-8 bytes, the way requests can send Cyrillic."""
        return self.config.user.encode(), self.config.password.encode()

    def session(self) -> requests.Session:
        """A requests session authenticated as the publication's user (close it when done)."""
        session = requests.Session()
        session.auth = self.auth  # type: ignore[assignment]
        return session

    def stop(self) -> None:
        """Stop serving and release the port and the client."""
        self.client.close()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        close_app(self.app)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(
    user: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
    base: str = DEFAULT_BASE,
    push_url: str | None = None,
    push_secret: str | None = None,
    soap_address: str | None = None,
    bulk: int = 0,
    seed: str = DEFAULT_SEED,
    title: str = "",
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningSandbox:
    """Start an emulator in a background thread (port 0: a free one); call `stop()` after."""
    config = Config(
        base,
        user,
        password,
        push_url=push_url,
        push_secret=push_secret,
        soap_address=soap_address,
        bulk=bulk,
        seed=seed,
        title=title,
    )
    app = create_app(config)
    return RunningSandbox(app, build_server(app, host, port), config)


# An emulator for the duration of a `with` block: `with running(...) as onec:` stops it after.
running: Final = start
