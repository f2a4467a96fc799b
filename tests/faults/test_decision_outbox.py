"""The decision outbox across outages: the scenario of issue 17 as a test.

1C is down when the approver presses «Согласовать»; the press is answered and the decision
stored; Redis (AOF, `appendfsync always`) restarts gracefully; 1C comes back. The decision
reaches 1C once, within a minute of 1C's return, however far its backoff had put the next
attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.bootstrap import Gateway
from gateway.entrypoints.worker import Worker
from gateway.usecases import outbox
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import wait_for
from tests.faults.conftest import PrivateRedis, populate, record

pytestmark = pytest.mark.timeout(300)


def decided_tasks(onec: RunningSandbox, onec_user_id: str) -> list[dict[str, Any]]:
    """The user's tasks that 1C holds a decision for."""
    return [
        task
        for approval in onec.client.approvals()
        for task in approval["tasks"]
        if task["performer"]["id"] == onec_user_id and task["decision"]
    ]


def test_a_decision_pressed_while_1c_is_down_outlives_a_redis_restart_and_lands_once(
    make_gateway: Callable[..., Gateway],
    onec: RunningSandbox,
    telegram: SandboxServer,
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The backoff is scaled so one failed attempt puts the next 100–200 s away, as a long
    outage does in production (up to 10 minutes): the decision must not wait it out."""
    monkeypatch.setattr(outbox, "BACKOFF_BASE_SECONDS", 200.0)
    gateway = make_gateway(REDIS_URL=private_redis.url, ONEC_POLL_INTERVAL="15")
    [link] = populate(onec, telegram, gateway.store, approvers=1, tasks_each=1)
    worker = Worker(gateway, long_poll_seconds=1)
    worker.start()
    try:
        card = wait_for(
            lambda: next(
                (
                    m
                    for m in telegram.client.messages(link.chat_id)
                    if m.get("reply_markup", {}).get("inline_keyboard")
                ),
                None,
            ),
            "the card",
            60,
        )
        onec.client.set_fault("down")
        update = telegram.client.press(link.chat_id, "Согласовать", message_id=card["message_id"])
        query_id = update["callback_query"]["id"]
        answer = wait_for(lambda: telegram.client.callback_answer(query_id), "the answer", 30)
        assert answer["text"] == "Принято, передаю в 1С."

        def card_now() -> dict[str, Any]:
            messages = telegram.client.messages(link.chat_id)
            return next(m for m in messages if m["message_id"] == card["message_id"])

        wait_for(
            lambda: "передаётся в 1С" in card_now().get("caption", ""),
            "the card to say the decision is on its way (the first attempt failed)",
            30,
        )
        private_redis.stop()  # SIGTERM: a graceful shutdown, the AOF flushed
        private_redis.start()
        time.sleep(2)
        onec.client.clear_fault()
        back = time.monotonic()
        wait_for(
            lambda: decided_tasks(onec, link.onec_user_id),
            "the decision in 1C within a minute of its return",
            60,
            interval=0.5,
        )
        seconds_to_apply = time.monotonic() - back
        wait_for(lambda: gateway.store.outbox_depth() == 0, "an empty outbox", 30)
        wait_for(lambda: not card_now().get("reply_markup"), "the card closed", 30)
    finally:
        worker.stop()
    answers = telegram.client.calls("answerCallbackQuery")
    writes = [r for r in onec.client.requests_log() if r["path"].endswith("/decision")]
    record(
        "press_1c_down_redis_restart_1c_back",
        {
            "seconds_to_apply_after_1c_back": round(seconds_to_apply, 1),
            "decision_requests_to_1c": len(writes),
            "answered": len(answers),
        },
    )
    assert len(decided_tasks(onec, link.onec_user_id)) == 1
    assert [w["status"] for w in writes if w["status"] is not None] == [200]
    assert [a["params"]["text"] for a in answers] == ["Принято, передаю в 1С."]
