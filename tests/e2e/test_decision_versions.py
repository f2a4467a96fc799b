"""Approve only what you saw, and refusals are final (design 6.12, 6.13), end to end.

A real worker runs against the 1C emulator (http and odata connectors), the Bot API emulator
and Redis. The document is edited and refusals are set through the 1C emulator's control API,
as a 1C user or the configuration's own code would do it; the approver acts only through the
Telegram emulator.
"""

from __future__ import annotations

import time

import pytest

from gateway.entrypoints.worker import Worker
from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import Approver, approve_with_1c_down, decided_in_1c, wait_for

pytestmark = pytest.mark.usefixtures("worker")

ROUTE = ["Морозов", "Волков"]
CHANGED = "документ изменился после того, как вы его открыли"
REFUSAL = "Превышен лимит бюджета <ЦФО Снабжение> & резерва"


def writes_to_1c(onec: RunningSandbox) -> list[dict]:
    """Requests that could have written a decision: OData PATCH and actions, the HTTP service's
    decision route (answered, whatever the answer)."""
    return [
        r
        for r in onec.client.requests_log()
        if r["status"] is not None
        and (r["method"] == "PATCH" or r["path"].endswith(("/ExecuteTask", "/decision")))
    ]


def new_card(approver: Approver, after: dict, fragment: str) -> dict:
    """A card with buttons showing `fragment`, sent after the message `after`."""

    def find() -> dict | None:
        for message in reversed(approver.bot_messages()):
            if (
                message["message_id"] > after["message_id"]
                and approver.buttons(message)
                and fragment in approver.text_of(message)
            ):
                return message
        return None

    return dict(wait_for(find, "a new card with buttons", timeout=30))


def approve_on_the_new_card(
    onec: RunningSandbox, approver: Approver, current: dict, created: dict
) -> None:
    """The current card decides as usual: an approval there reaches 1C."""
    approver.press(current["message_id"], "Согласовать")
    wait_for(lambda: decided_in_1c(onec, created) == ["approve"], "the decision on the new card")


def test_a_decision_queued_while_1c_was_down_on_a_document_edited_meanwhile_writes_nothing(
    open_card, onec: RunningSandbox
) -> None:
    created, approver, card = open_card(ROUTE, "Правка во время сбоя")
    approve_with_1c_down(onec, approver, card)
    onec.client.edit_document(
        created["document_id"], {"НазначениеПлатежа": "Правка во время сбоя, сумма удвоена"}
    )
    onec.client.clear_requests()
    onec.client.clear_fault()

    approver.wait_shows(card, CHANGED, "the old card to say the document changed", timeout=30)
    current = new_card(approver, card, "сумма удвоена")
    assert approver.buttons(approver.message(card["message_id"])) == []
    assert decided_in_1c(onec, created) == []
    assert onec.client.task(created["task_id"])["state"] == "pending"
    assert not [r for r in writes_to_1c(onec) if r["status"] in (200, 204)]

    approve_on_the_new_card(onec, approver, current, created)


def test_a_return_whose_reason_is_given_after_the_document_changed_writes_nothing(
    open_card, onec: RunningSandbox, worker: Worker
) -> None:
    created, approver, card = open_card(ROUTE, "Правка до причины")
    approver.press(card["message_id"], "Вернуть инициатору")
    prompt = approver.wait_message("причину", "the reason prompt")
    onec.client.edit_document(created["document_id"], {"НазначениеПлатежа": "Правка до причины 2"})
    approver.wait_shows(card, "Карточка обновлена", "the sync pass to replace the card")
    current = new_card(approver, card, "Правка до причины 2")
    approver.say("Не хватает счёта", reply_to=prompt["message_id"])

    approver.wait_message(CHANGED, "the line saying the document changed")
    assert decided_in_1c(onec, created) == []
    assert onec.client.task(created["task_id"])["state"] == "pending"
    assert worker.ctx.outbox.outbox_depth() == 0
    # The current card is left as it is, and decides as usual.
    assert approver.buttons(approver.message(current["message_id"]))
    approve_on_the_new_card(onec, approver, current, created)


def test_a_decision_1c_refuses_reaches_the_approver_with_1c_text_and_is_not_retried(
    open_card, onec: RunningSandbox, worker: Worker
) -> None:
    created, approver, card = open_card(ROUTE, "Отказ 1С")
    onec.client.set_refusal(created["document_id"], REFUSAL)
    onec.client.clear_requests()
    approver.press(card["message_id"], "Согласовать")

    told = approver.wait_message(REFUSAL, "1C's own text")
    assert "1С отказалась выполнить решение" in approver.text_of(told)
    assert worker.ctx.outbox.outbox_depth() == 0
    assert worker.ctx.outbox.dead_letter_count() == 0
    time.sleep(3)  # a retry (the first comes after 1-2 s) has every chance to show up
    assert len([r for r in writes_to_1c(onec) if r["method"] == "POST"]) == 1
    assert decided_in_1c(onec, created) == []
    assert onec.client.task(created["task_id"])["state"] == "pending"
    # The current card follows, to decide otherwise or again once 1C allows it.
    new_card(approver, card, "Отказ 1С")


def test_a_queued_decision_1c_refuses_when_back_is_told_at_once_not_retried_for_hours(
    open_card, onec: RunningSandbox, worker: Worker
) -> None:
    created, approver, card = open_card(ROUTE, "Отказ после сбоя")
    approve_with_1c_down(onec, approver, card)
    onec.client.set_refusal(created["document_id"], REFUSAL)
    onec.client.clear_fault()

    approver.wait_message(REFUSAL, "1C's own text")
    assert worker.ctx.outbox.outbox_depth() == 0
    assert worker.ctx.outbox.dead_letter_count() == 0
    assert decided_in_1c(onec, created) == []
