"""Servers a test starts: a free port for a child process and its first answer, servers run on
a thread of the test's own, and the fixtures that share one emulator between tests."""

from __future__ import annotations

import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypeVar

import pytest
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


class _Resettable(Protocol):
    def reset(self) -> Any: ...


class _Emulator(Protocol):
    @property
    def client(self) -> _Resettable: ...


EmulatorT = TypeVar("EmulatorT", bound=_Emulator)


def emulator_fixtures(
    started: str,
    fresh: str,
    start: Callable[[], AbstractContextManager[EmulatorT]],
    *,
    scope: Literal["session", "module"],
    what: str,
) -> tuple[Any, Any]:
    """Two fixtures for an emulator: `started` runs `start()` once per `scope` (starting it is the
    slow part), `fresh` hands it to a test after resetting its state through its client.

    Assign them to the same names in a conftest or test module:
    `onec_emulator, onec = emulator_fixtures("onec_emulator", "onec", ...)`."""

    def started_fixture() -> Iterator[EmulatorT]:
        with start() as instance:
            yield instance

    def fresh_fixture(request: pytest.FixtureRequest) -> EmulatorT:
        instance: EmulatorT = request.getfixturevalue(started)
        instance.client.reset()
        return instance

    started_fixture.__doc__ = f"{what}, started once per {scope} (reset per test with `{fresh}`)."
    fresh_fixture.__doc__ = f"{what} with its state reset."
    return (
        pytest.fixture(scope=scope, name=started)(started_fixture),
        pytest.fixture(name=fresh)(fresh_fixture),
    )
