"""What the 1C extension keeps in 1C, end to end through the extension's own services.

A real worker runs against the 1C emulator (`http` and `soap` connectors), the Bot API
emulator and Redis. The extension's settings, a user's read right, a 1C session holding a task
and the audit register are set and read through the 1C emulator's control API; the approver acts
only through the Telegram emulator.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import pytest

from bench.harness import worker_running
from gateway.bootstrap import Gateway
from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import (
    Approver,
    OpenCard,
    decided_in_1c,
    start_approval,
    wait_for,
)

PAYMENTS = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
PURPOSE = "Оплата связи за декабрь"
COUNTERPARTY = {"Контрагент": "ООО Ромашка"}
AMOUNT_SHOWN = "98 765,40"


@pytest.fixture(params=["http", "soap"])
def connector(request: pytest.FixtureRequest) -> str:
    """The extension's services: the JSON HTTP service and its SOAP twin."""
    return str(request.param)


@pytest.fixture
def open_payment(open_card: Callable[..., OpenCard]) -> Callable[..., OpenCard]:
    """`open_card` for this module's payment (with a counterparty), its card found by amount."""
    return functools.partial(open_card, purpose=PURPOSE, find=AMOUNT_SHOWN, fields=COUNTERPARTY)


def refused_decisions(onec: RunningSandbox) -> list[dict]:
    """Decisions the extension's services answered with 503 (http) or a server fault (soap)."""
    return [
        r
        for r in onec.client.requests_log()
        if r["status"] is not None
        and r["status"] >= 500
        and r["method"] == "POST"
        and (r["path"].endswith("/decision") or "/ws/" in r["path"])
    ]


@pytest.mark.usefixtures("worker")
def test_the_card_carries_only_the_fields_the_extension_settings_list(
    open_payment, onec: RunningSandbox
) -> None:
    onec.client.set_card(PAYMENTS, ["СуммаДокумента", "Контрагент"])
    _, approver, card = open_payment(["Волков"])

    text = approver.text_of(card)
    assert "Контрагент: ООО Ромашка" in text
    assert "Назначение платежа" not in text and PURPOSE not in text
    assert "Организация" not in text


def test_a_document_the_approver_may_not_read_arrives_without_fields_and_pdf_and_says_why(
    make_approver, onec: RunningSandbox, gateway: Gateway
) -> None:
    """The worker starts after the right is taken away: 1C announces no change of rights (the
    task's version stays the same), so a worker that had read the task before would keep what
    it read then until the task changes (a limit the admin guide names)."""
    created = start_approval(onec, ["Волков"], PURPOSE, fields=COUNTERPARTY)
    volkov = onec.client.user("Волков")
    onec.client.set_read_denied(created["document_id"], [volkov["id"]])
    onec.client.clear_requests()
    with worker_running(gateway):
        approver: Approver = make_approver("Волков")
        approver.connect()
        card = approver.card("нет права на чтение")
    text = approver.text_of(card)
    assert "Документ вам недоступен в 1С" in text
    assert f"«{volkov['name']}»" in text
    assert "98 765,40" not in text and PURPOSE not in text and "Ромашка" not in text
    assert "document" not in card  # a text message: no PDF attached
    assert not [r for r in onec.client.requests_log() if r["path"].endswith("/print")]


@pytest.mark.usefixtures("worker")
def test_a_decision_meeting_a_lock_in_1c_is_retried_and_applied_once_the_lock_is_gone(
    open_payment, onec: RunningSandbox
) -> None:
    created, approver, card = open_payment(["Волков", "Морозов"])
    onec.client.lock_task(created["task_id"])
    onec.client.clear_requests()
    approver.press(card["message_id"], "Согласовать")

    approver.wait_passing_on(card)
    wait_for(lambda: len(refused_decisions(onec)) >= 2, "a retry meeting the lock", timeout=30)
    assert decided_in_1c(onec, created) == []
    assert onec.client.audit() == []

    onec.client.lock_task(created["task_id"], locked=False)
    wait_for(lambda: decided_in_1c(onec, created) == ["approve"], "the decision", timeout=30)
    approver.wait_shows(card, "Согласовано", "the card to show the outcome")
    assert approver.buttons(approver.message(card["message_id"])) == []
    time.sleep(1)  # a second write of the same decision would show up in the audit by now
    [record] = onec.client.audit()  # applied once: the 503s recorded nothing
    assert record["task_id"] == created["task_id"]
    assert record["outcome"] == "applied"


@pytest.mark.usefixtures("worker")
def test_the_audit_register_records_the_telegram_account_and_the_idempotency_key(
    open_payment, onec: RunningSandbox
) -> None:
    created, approver, card = open_payment(["Волков"])
    approver.press(card["message_id"], "Вернуть инициатору")
    prompt = approver.wait_message("причину", "the reason prompt")
    approver.say("Нет счёта", reply_to=prompt["message_id"])

    wait_for(lambda: decided_in_1c(onec, created), "the return in 1C")
    [record] = onec.client.audit()
    first, last = approver.name.split()[1], approver.name.split()[0]
    assert record["telegram_id"] == approver.user_id
    assert record["telegram_name"] == f"{first} {last}"
    assert record["user_id"] == approver.onec_user["id"]
    assert record["task_id"] == created["task_id"]
    assert record["decision"] == "return_initiator"
    assert record["comment"] == "Нет счёта"
    assert record["idempotency_key"].startswith("tg-")
    assert record["outcome"] == "applied"
