"""A worker serving two infobases (issue 21): one sync loop per base, each with its own lock.

Real Redis and the real Worker's threads, 1C faked per base: base erp's 1C is down while uh's
answers, and uh keeps syncing on its own schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.bootstrap import build
from gateway.entrypoints.worker import Worker
from gateway.errors import Upstream, UpstreamUnavailable
from gateway.ports.storage import LeaderRole, StatusField
from gateway.settings import Settings
from tests.factories import make_entry, make_request, make_task
from tests.fakes import FakeOneC, FakeRenderer


def until(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def two_bases(env: dict[str, str]) -> Settings:
    return Settings.from_env(
        {
            **{k: v for k, v in env.items() if k != "ONEC_BASE_URL"},
            "ONEC_BASES": "uh,erp",
            "ONEC_UH_BASE_URL": "http://127.0.0.1:9/uh",
            "ONEC_ERP_BASE_URL": "http://127.0.0.1:9/erp",
            "ONEC_UH_POLL_INTERVAL": "0.2",
            "ONEC_ERP_POLL_INTERVAL": "0.2",
            # No update to poll: the worker's Telegram side has nothing to do in these tests.
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://gw.example/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": "hook-secret",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",
        }
    )


def test_one_base_down_leaves_the_other_syncing(env: dict[str, str]) -> None:
    settings = two_bases(env)
    uh = FakeOneC([make_task("task-1"), make_task("task-2")])
    erp = FakeOneC([make_task("task-1")])
    erp.error = UpstreamUnavailable(Upstream.ONEC, "connection refused")
    gateway = build(settings, onec={"uh": uh, "erp": erp}, renderer=FakeRenderer())
    worker = Worker(gateway, long_poll_seconds=1)
    uh_store, erp_store = gateway.bases["uh"].store, gateway.bases["erp"].store
    try:
        worker.start()
        names = {thread.name for thread in worker._threads}
        assert {"sync:uh", "sync:erp", "outbox:uh", "outbox:erp", "updates"} <= names
        until(lambda: bool(erp_store.get_status().get(StatusField.ONEC_DOWN_SINCE)), "erp down")
        first = uh_store.get_status().get(StatusField.LAST_SYNC_AT)
        until(lambda: uh_store.get_status().get(StatusField.LAST_SYNC_AT) != first, "uh synced")
        assert uh_store.get_status()[StatusField.LAST_SYNC_PENDING] == "2"
        assert not erp_store.get_status().get(StatusField.LAST_SYNC_AT)
        # Each base's sync lock is in its own namespace, both held by this worker.
        assert uh_store.leader(LeaderRole.SYNC) == erp_store.leader(LeaderRole.SYNC) == worker.id
        erp.error = None  # erp's 1C is back: its loop syncs it without any restart
        until(lambda: bool(erp_store.get_status().get(StatusField.LAST_SYNC_AT)), "erp synced")
        assert not erp_store.get_status().get(StatusField.ONEC_DOWN_SINCE)
    finally:
        worker.stop(5)
        gateway.close()
    assert uh_store.leader(LeaderRole.SYNC) is None  # released on stop
    assert erp_store.leader(LeaderRole.SYNC) is None


def test_one_base_down_leaves_the_other_deciding_and_its_decision_waits(
    env: dict[str, str],
) -> None:
    """The same task id in both bases: uh's decision reaches uh's 1C only; erp's waits."""
    uh = FakeOneC([make_task("task-1")])
    erp = FakeOneC([make_task("task-1")])
    erp.error = UpstreamUnavailable(Upstream.ONEC, "connection refused")
    gateway = build(two_bases(env), onec={"uh": uh, "erp": erp}, renderer=FakeRenderer())
    uh_store, erp_store = gateway.bases["uh"].store, gateway.bases["erp"].store
    uh_store.enqueue(make_entry(make_request("task-1", key="press-uh")))
    erp_store.enqueue(make_entry(make_request("task-1", key="press-erp")))
    worker = Worker(gateway, long_poll_seconds=1)
    try:
        worker.start()
        until(lambda: [r.idempotency_key for r in uh.written] == ["press-uh"], "uh decided")

        def erp_tried() -> bool:
            waiting = erp_store.get_entry("press-erp")
            assert waiting is not None  # waits for erp's 1C
            return waiting.attempts > 0

        until(erp_tried, "erp tried")
        assert erp.written == []
        erp.error = None
        until(lambda: erp_store.get_entry("press-erp") is None, "erp decided", 30)
        assert [r.idempotency_key for r in erp.written] == ["press-erp"]
        assert [r.idempotency_key for r in uh.written] == ["press-uh"]  # once, in its own base
    finally:
        worker.stop(5)
        gateway.close()
