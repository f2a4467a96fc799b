"""The fault suite (`make faults`): outages, restarts, kills and races against the real stack.

Each scenario asserts that nothing acknowledged is lost and nothing is applied twice, and
writes its figures to tests/artifacts/faults.json for docs/reliability.md.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from bench.harness import worker_running
from gateway.bootstrap import Gateway
from gateway.domain.records import UserLink
from gateway.entrypoints.worker import Worker
from gateway.usecases import outbox
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import wait_for
from tests.faults.conftest import PrivateRedis, populate, record, subprocess_env

pytestmark = pytest.mark.timeout(600)  # outages and thousand-task bursts take minutes


def cards_in(telegram: SandboxServer, links: list[UserLink]) -> dict[int, list[dict[str, Any]]]:
    """Every chat's messages that carry decision buttons."""
    found = {}
    for link in links:
        messages = telegram.client.messages(link.chat_id)
        found[link.chat_id] = [
            m for m in messages if m.get("reply_markup", {}).get("inline_keyboard")
        ]
    return found


def card_count(telegram: SandboxServer, links: list[UserLink]) -> int:
    """Cards sent so far, from the emulator's call log (one request, not one per chat)."""
    chats = {str(link.chat_id) for link in links}
    sent = telegram.client.calls("sendDocument")
    return sum(
        1 for c in sent if c.get("status") == 200 and str(c["params"].get("chat_id")) in chats
    )


def delivered(telegram: SandboxServer, links: list[UserLink]) -> Counter[tuple[str, str]]:
    """Cards sent per (chat, title line): distinct keys are delivered tasks, counts over 1 are
    duplicates (from the emulator's call log, in one request)."""
    chats = {str(link.chat_id) for link in links}
    sent: Counter[tuple[str, str]] = Counter()
    for call in telegram.client.calls("sendDocument"):
        chat = str(call["params"].get("chat_id"))
        if call.get("status") == 200 and chat in chats:
            sent[(chat, str(call["params"].get("caption", "")).split("\n")[0])] += 1
    return sent


def until(check: Callable[[], Any], what: str, timeout: float) -> Any:
    """wait_for at a pace that does not load the emulators it watches."""
    return wait_for(check, what, timeout, interval=0.5)


def decisions_applied(onec: RunningSandbox, links: list[UserLink]) -> Counter[str]:
    """Per task of these approvers, how many decisions 1C recorded (one-stage: 0 or 1 each)."""
    mine = {link.onec_user_id for link in links}
    applied: Counter[str] = Counter()
    for approval in onec.client.approvals():
        for task in approval["tasks"]:
            if task["decision"] and task["performer"]["id"] in mine:
                applied[task["id"]] += 1
    return applied


def press_all(telegram: SandboxServer, links: list[UserLink], button: str) -> int:
    pressed = 0
    for chat, cards in cards_in(telegram, links).items():
        for card in cards:
            telegram.client.press(chat, button, message_id=card["message_id"])
            pressed += 1
    return pressed


def approve_every_card_with_1c_down(
    gateway: Gateway,
    onec: RunningSandbox,
    telegram: SandboxServer,
    links: list[UserLink],
    cards: int,
    timeout: float,
) -> float:
    """Once all `cards` are in, take 1C down and press «Согласовать» on each; returns when the
    outbox holds every decision, answering when 1C went down (time.monotonic())."""
    until(lambda: card_count(telegram, links) == cards, f"{cards} cards", timeout=timeout)
    onec.client.set_fault("down")
    down_since = time.monotonic()
    assert press_all(telegram, links, "Согласовать") == cards
    until(lambda: gateway.store.outbox_depth() == cards, f"{cards} stored decisions", timeout)
    return down_since


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff capped at 3 s, so recovery after an outage is seen within the test; attempts
    unbounded, since at that pace the real bound (about 2.7 hours of retries) is hit in 90 s."""
    monkeypatch.setattr(outbox, "BACKOFF_CAP_SECONDS", 3.0)
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 10_000)


@pytest.mark.usefixtures("quick_retries")
def test_200_decisions_made_while_1c_is_down_are_applied_once_when_it_is_back(
    make_gateway: Callable[..., Gateway], onec: RunningSandbox, telegram: SandboxServer
) -> None:
    gateway = make_gateway()
    links = populate(onec, telegram, gateway.store, approvers=20, tasks_each=10)
    with worker_running(gateway):
        outage_started = approve_every_card_with_1c_down(gateway, onec, telegram, links, 200, 120)
        time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))  # a 30 s outage at least
        outage = time.monotonic() - outage_started
        assert decisions_applied(onec, links) == Counter()
        onec.client.clear_fault()
        back = time.monotonic()
        until(lambda: len(decisions_applied(onec, links)) == 200, "200 decisions in 1C", 180)
        recovery = time.monotonic() - back
        until(lambda: gateway.store.outbox_depth() == 0, "an empty outbox", 60)
    applied = decisions_applied(onec, links)
    posts = [r for r in onec.client.requests_log() if r["path"].endswith("/decision")]
    record(
        "1c_down_200_decisions",
        {
            "decisions": 200,
            "applied": len(applied),
            "applied_twice": sum(1 for n in applied.values() if n > 1),
            "outage_seconds": round(outage, 1),
            "seconds_to_apply_all_after_recovery": round(recovery, 1),
            "decision_requests_to_1c": len(posts),
            "dead_letters": gateway.store.dead_letter_count(),
        },
    )
    assert set(applied.values()) == {1}
    assert gateway.store.dead_letter_count() == 0


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize("mode", ["error500", "slow", "html_login"])
def test_decisions_under_a_misbehaving_1c_are_retried_and_applied_once(
    make_gateway: Callable[..., Gateway],
    onec: RunningSandbox,
    telegram: SandboxServer,
    mode: str,
) -> None:
    gateway = make_gateway(ONEC_TIMEOUT="1")
    links = populate(onec, telegram, gateway.store, approvers=5, tasks_each=4)
    with worker_running(gateway):
        until(lambda: card_count(telegram, links) == 20, "20 cards", timeout=60)
        # `slow` answers after 2 s, beyond ONEC_TIMEOUT: the gateway sees no answer in time.
        onec.client.set_fault(mode, seconds=2 if mode == "slow" else 8, duration=8)
        assert press_all(telegram, links, "Согласовать") == 20
        until(lambda: len(decisions_applied(onec, links)) == 20, "20 decisions in 1C", 120)
    applied = decisions_applied(onec, links)
    record(f"1c_{mode}_20_decisions", {"applied": len(applied), "twice": 0})
    assert set(applied.values()) == {1}
    assert gateway.store.dead_letter_count() == 0


def test_the_same_decision_raced_by_two_workers_and_pressed_twice_is_written_once(
    make_gateway: Callable[..., Gateway], onec: RunningSandbox, telegram: SandboxServer
) -> None:
    first = make_gateway()
    links = populate(onec, telegram, first.store, approvers=1, tasks_each=1)
    second = make_gateway()
    workers = [Worker(first, long_poll_seconds=1), Worker(second, long_poll_seconds=1)]
    for worker in workers:
        worker.start()
    try:
        until(lambda: card_count(telegram, links) == 1, "the card", timeout=30)
        card = cards_in(telegram, links)[links[0].chat_id][0]
        telegram.client.press(links[0].chat_id, "Согласовать", message_id=card["message_id"])
        telegram.client.press(links[0].chat_id, "Согласовать", message_id=card["message_id"])
        until(lambda: len(decisions_applied(onec, links)) == 1, "the decision in 1C", 30)
        time.sleep(2)  # give a duplicate every chance to arrive
    finally:
        for worker in workers:
            worker.stop()
    posts = [r for r in onec.client.requests_log() if r["path"].endswith("/decision")]
    record("two_workers_one_decision", {"decision_requests_to_1c": len(posts)})
    assert len(posts) == 1


def test_every_task_is_delivered_with_flood_limits_on(
    make_gateway: Callable[..., Gateway], onec: RunningSandbox, telegram: SandboxServer
) -> None:
    gateway = make_gateway(limits=True, ONEC_POLL_INTERVAL="2")
    links = populate(onec, telegram, gateway.store, approvers=200, tasks_each=5)
    telegram.client.set_flood(30, 1)
    worker = Worker(gateway, long_poll_seconds=1)
    started = time.monotonic()
    worker.start()
    try:
        until(lambda: card_count(telegram, links) == 1000, "1,000 cards", timeout=240)
        drained = time.monotonic() - started
    finally:
        worker.stop()
    answered_429 = [c for c in telegram.client.calls() if c.get("status") == 429]
    record(
        "flood_limits_1000_tasks",
        {
            "cards": 1000,
            "seconds_to_drain": round(drained, 1),
            "messages_per_second": round(1000 / drained, 1),
            "answers_429": len(answered_429),
            "gateway_saw_429": gateway.messenger.rate_limited,
        },
    )
    assert card_count(telegram, links) == 1000


def test_a_worker_killed_at_random_moments_loses_no_task(
    make_gateway: Callable[..., Gateway],
    onec: RunningSandbox,
    telegram: SandboxServer,
    fault_env: dict[str, str],
) -> None:
    """Five SIGKILLs during a 1,000-task burst; a last worker then finishes the job."""
    gateway = make_gateway()
    links = populate(onec, telegram, gateway.store, approvers=100, tasks_each=10)
    env = subprocess_env(fault_env)
    rng = random.Random(20261127)
    kills = []
    for _ in range(5):
        before = card_count(telegram, links)
        process = subprocess.Popen([sys.executable, "-m", "tests.faults.stub_worker"], env=env)
        # Kill mid-burst: once this worker has started sending, at a random moment.
        until(lambda: card_count(telegram, links) > before, "the worker to send", 60)  # noqa: B023
        moment = rng.uniform(0.1, 2.0)
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kills.append(
            {"after_first_card_s": round(moment, 2), "cards_so_far": card_count(telegram, links)}
        )
    survivor = subprocess.Popen([sys.executable, "-m", "tests.faults.stub_worker"], env=env)
    try:
        # A killed worker's claim on a card frees after CLAIM_SECONDS (60 s).
        until(lambda: len(delivered(telegram, links)) >= 1000, "1,000 delivered tasks", 300)
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=60)
    per_task = delivered(telegram, links)
    duplicates = sum(n - 1 for n in per_task.values())
    record(
        "sigkill_5_runs_1000_tasks",
        {"kills": kills, "delivered": len(per_task), "never_delivered": 1000 - len(per_task),
         "duplicates": duplicates},
    )  # fmt: skip
    assert len(per_task) == 1000


@pytest.mark.usefixtures("quick_retries")
def test_a_redis_restart_with_aof_loses_no_acknowledged_decision(
    make_gateway: Callable[..., Gateway],
    onec: RunningSandbox,
    telegram: SandboxServer,
    private_redis: PrivateRedis,
) -> None:
    gateway = make_gateway(REDIS_URL=private_redis.url)
    links = populate(onec, telegram, gateway.store, approvers=10, tasks_each=5)
    with worker_running(gateway):
        approve_every_card_with_1c_down(gateway, onec, telegram, links, 50, 60)
        # appendfsync always: everything acknowledged is on disk
        private_redis.stop(signal.SIGKILL)
        time.sleep(2)  # the workers see Redis gone
        private_redis.start()
        onec.client.clear_fault()
        until(lambda: len(decisions_applied(onec, links)) == 50, "50 decisions in 1C", 120)
    applied = decisions_applied(onec, links)
    record("redis_restart_aof_50_decisions", {"applied": len(applied), "lost": 50 - len(applied)})
    assert set(applied.values()) == {1}
