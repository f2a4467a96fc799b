"""Fixtures of the fault suite: many approvers, a stand-in PDF, figures written for the docs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from gateway.bootstrap import Gateway, build
from gateway.domain.records import UserLink
from gateway.ports.storage import LinkStore
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.conftest import unlimited_limiter
from tests.e2e.conftest import wait_for
from tests.faults.stub_worker import StubRenderer

RESULTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "faults.json"


def record(name: str, figures: dict[str, Any]) -> None:
    """Add a scenario's figures to tests/artifacts/faults.json (docs/reliability.md quotes it)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = {**figures, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=2))


@pytest.fixture
def fault_env(onec_env: dict[str, str]) -> dict[str, str]:
    """Settings for the http connector against both emulators, syncing every half second."""
    return {**onec_env, "ONEC_CONNECTOR": "http", "ONEC_POLL_INTERVAL": "0.5"}


@pytest.fixture
def make_gateway(fault_env: dict[str, str]) -> Iterator[Callable[..., Gateway]]:
    """Gateways with the stand-in PDF and (by default) no flood limits of our own."""
    made: list[Gateway] = []

    def make(limits: bool = False, **env: str) -> Gateway:
        settings = Settings.from_env({**fault_env, **env})
        limiter = None if limits else unlimited_limiter(settings)
        gateway = build(settings, renderer=StubRenderer(), limiter=limiter)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


def populate(
    onec: RunningSandbox,
    telegram: SandboxServer,
    store: LinkStore,
    approvers: int,
    tasks_each: int,
) -> list[UserLink]:
    """`approvers` new 1C users with phones, linked in Redis to Telegram users, each with
    `tasks_each` pending one-stage approvals."""
    links = []
    initiator = onec.client.user("Иванов")["id"]
    for n in range(approvers):
        phone = f"+7 (950) {n // 10000:03d}-{n // 100 % 100:02d}-{n % 100:02d}"
        digits = "7950" + f"{n // 10000:03d}{n // 100 % 100:02d}{n % 100:02d}"
        onec_id = onec.client.create_user(f"Согласующий {n:04d}", [phone], login=f"load{n}")
        tg_id = 800_000 + n
        telegram.client.create_user(tg_id, first_name=f"Согласующий {n}", phone=phone)
        link = UserLink(tg_id, tg_id, onec_id, f"Согласующий {n:04d}", digits, datetime.now(UTC))
        store.save_link(link)
        links.append(link)
        for _ in range(tasks_each):
            onec.client.create_approval(
                route=[onec_id], initiator=initiator, fields={"СуммаДокумента": "100"}
            )
    return links


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for a worker subprocess: settings plus PATH and the repo on PYTHONPATH."""
    root = str(Path(__file__).resolve().parents[2])
    return {**env, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": root, "LOG_LEVEL": "WARNING"}


class PrivateRedis:
    """A redis-server of the test's own, with AOF and `appendfsync always` (nothing it
    acknowledged is lost), that the test stops and starts again on the same port and folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING (its AOF loaded)."""
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        try:
            wait_for(lambda: _pings(client), "redis-server to answer", 20)
        finally:
            client.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: a graceful shutdown (the AOF flushed); SIGKILL: the process dies."""
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running PrivateRedis, stopped after the test."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
