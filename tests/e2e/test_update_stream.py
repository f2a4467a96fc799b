"""The update stream under abuse: a flooding user, a poison update (design section 6, issue 17).

A real worker reads updates from Redis and answers through the Bot API emulator; the order of
the emulator's call log shows who was answered first, with no clock in the assertions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.redis_store import RedisStore, coordination
from gateway.bootstrap import Gateway
from gateway.usecases import dispatch
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import Approver, wait_for

pytestmark = pytest.mark.usefixtures("worker")

STRANGER = 7001
FLOOD = 120


@pytest.fixture
def connector() -> str:
    """The stream does not depend on the 1C connector: one is enough."""
    return "http"


def store_of(gateway: Gateway) -> RedisStore:
    store = gateway.store
    assert isinstance(store, RedisStore)
    return store


def flood(telegram: SandboxServer, count: int = FLOOD) -> None:
    telegram.client.create_user(STRANGER, first_name="Незнакомец")
    for n in range(count):
        telegram.client.send_text(STRANGER, f"сообщение {n}")


def sent_to(call: dict[str, Any], chat_id: int) -> bool:
    return call["method"] == "sendMessage" and str(call["params"].get("chat_id")) == str(chat_id)


def card_of(approver: Approver, onec: RunningSandbox) -> dict[str, Any]:
    onec.client.create_approval(
        route=[approver.onec_user["id"]],
        initiator=onec.client.user("Иванов")["id"],
        fields={"СуммаДокумента": "1200.00", "НазначениеПлатежа": "Оплата связи"},
    )
    return approver.card("Оплата связи")


def test_a_flood_from_one_user_leaves_another_approvers_press_answered_first(
    make_approver, onec: RunningSandbox, telegram: SandboxServer
) -> None:
    approver: Approver = make_approver("Морозов")
    approver.connect()
    card = card_of(approver, onec)
    flood(telegram)
    press = approver.press(card["message_id"], "Согласовать")
    approver.answer_to(press)
    calls = telegram.client.calls()
    answered_at = next(
        n
        for n, call in enumerate(calls)
        if call["method"] == "answerCallbackQuery"
        and call["params"].get("callback_query_id") == press["callback_query"]["id"]
    )
    replies_before = [c for c in calls[:answered_at] if sent_to(c, STRANGER)]
    # The stranger is answered at one message a second: most of the replies are still to come.
    assert len(replies_before) < dispatch.INBOUND_LIMIT // 2


def test_updates_past_a_users_limit_are_ignored_after_one_notice(
    gateway: Gateway, telegram: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "INBOUND_LIMIT", 4)
    monkeypatch.setattr(dispatch, "INBOUND_WINDOW_SECONDS", 86_400)  # the flood in one window
    flood(telegram, 40)
    wait_for(
        lambda: any(
            "Слишком много сообщений" in (m.get("text") or "")
            for m in telegram.client.messages(STRANGER)
        ),
        "the notice to the flooding user",
        timeout=30,
    )
    store = store_of(gateway)
    wait_for(lambda: store.queued_updates() == 0, "every update of the flood acknowledged")
    answers = [m for m in telegram.client.messages(STRANGER) if m["from"]["is_bot"]]
    assert len(answers) == 4 + 1
    assert sum("Слишком много сообщений" in (m.get("text") or "") for m in answers) == 1


@pytest.mark.parametrize(
    "update",
    [
        pytest.param({"message": "not a message"}, id="unreadable"),
        pytest.param(
            {
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": STRANGER, "type": "private"},
                    "from": {"id": STRANGER, "is_bot": False, "first_name": "Незнакомец"},
                    "text": 5,
                }
            },
            id="crashes-its-handler",
        ),
    ],
)
def test_a_poison_update_is_set_aside_after_a_few_tries(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, update: dict[str, Any]
) -> None:
    monkeypatch.setattr(coordination, "STALE_UPDATE_MS", 200)
    store = store_of(gateway)
    payload = json.dumps({"update_id": 424242, **update})
    store.push_update(424242, payload)
    wait_for(lambda: store.dead_update_count() == 1, "the update set aside")
    assert store.queued_updates() == 0
    [dead] = store.dead_updates()
    assert dead["payload"] == payload
    assert dead["attempts"] == coordination.MAX_UPDATE_DELIVERIES
