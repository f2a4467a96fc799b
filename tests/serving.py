"""Servers a test starts as child processes: a free port to give one, and its first answer."""

from __future__ import annotations

import socket
import subprocess
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
