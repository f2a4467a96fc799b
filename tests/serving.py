"""Servers a test starts: a free port for a child process and its first answer, and servers
run on a thread of the test's own."""

from __future__ import annotations

import socket
import socketserver
import subprocess
import threading
import time
from typing import Any

import requests


def free_port() -> int:
    """A port nothing listens on now (the child binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_answer(
    process: subprocess.Popen[Any], url: str, what: str, seconds: float
) -> requests.Response:
    """GET `url` until the server answers; fails with the child's stderr if it exits first,
    or naming `what` once `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.1)


class InThread:
    """A server (socketserver or werkzeug) serving on a daemon thread until `stop()`."""

    def __init__(self, server: socketserver.BaseServer, poll_interval: float = 0.5) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the listening socket and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
