"""Fixtures of the fault suite: many approvers, a stand-in PDF, figures written for the docs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.redis_store import RedisRateLimiter, RedisStore, connect
from gateway.bootstrap import Gateway, build
from gateway.domain import UserLink
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
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
        limiter = None
        if not limits:
            limiter = RedisRateLimiter(
                connect(settings.redis_url.reveal()),
                settings.redis_prefix,
                per_second=0,
                burst=0,
                per_chat_per_second=0,
                chat_burst=0,
            )
        gateway = build(settings, renderer=StubRenderer(), limiter=limiter)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


def populate(
    onec: RunningSandbox,
    telegram: SandboxServer,
    store: RedisStore,
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
