"""Approve only what you saw (design 6.12) and refusals are final (6.13): the decision use
case with the shared fakes of the ports, and the adapters' mapping of 1C's answers.

The fake 1C behaves as contract v1 says: a decision whose versions differ from the task's
answers `stale` and writes nothing; a refusal by 1C's code answers `refused`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from adapters.onec.contract_errors import error_for
from adapters.onec.contract_json import task_to_dict
from adapters.onec.odata_errors import refusal_or_transient
from gateway.domain.incoming import IncomingMessage, IncomingPress
from gateway.domain.records import (
    Delivery,
    OutboxEntry,
)
from gateway.domain.tasks import Decision, Task
from gateway.errors import (
    AlreadyCompleted,
    Refused,
    StaleDecision,
    UpstreamApplicationError,
    UpstreamUnavailable,
)
from gateway.presentation import callbacks
from gateway.usecases.context import FlowContext
from gateway.usecases.outbox import apply
from gateway.usecases.press import on_press, on_reason
from tests.factories import make_link, make_task
from tests.fakes import FakeMessenger, FakeOneC, InMemoryStore, make_context

MSK = timezone(timedelta(hours=3))
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
CHAT = 200
SECRET = "s" * 32
CARD = 41


def versioned(task_version: str, document_version: str) -> Task:
    """The task at a version, its document at another (as the emulator composes them)."""
    task = make_task()
    return replace(
        task,
        version=f"{task_version}.{document_version}",
        subject=replace(task.subject, version=document_version),
        allowed_decisions=(Decision.APPROVE, Decision.RETURN_INITIATOR),
    )


SHOWN = versioned("AAAAAQ==", "AAAAAg==")
EDITED = versioned("AAAAAQ==", "AAAAAw==")


LINK = make_link(CHAT, "performer-of-task-1", name="Иванова")
DOWN = UpstreamUnavailable("1C", "connection refused")


@pytest.fixture
def onec() -> FakeOneC:
    onec = FakeOneC([SHOWN])
    onec.add_users_of(LINK)
    return onec


@pytest.fixture
def store() -> InMemoryStore:
    store = InMemoryStore()
    store.save_link(LINK)
    store.save_delivery(
        Delivery(
            SHOWN.id,
            CHAT,
            CARD,
            SHOWN.version,
            False,
            NOW,
            text="Согласовать заявку 0000-000042",
            subject_version=SHOWN.subject.version,
        )
    )
    return store


@pytest.fixture
def messenger() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def ctx(store: InMemoryStore, onec: FakeOneC, messenger: FakeMessenger) -> FlowContext:
    return make_context(store, onec=onec, messenger=messenger, secret=SECRET, now=lambda: NOW)


def press(ctx: FlowContext, decision: Decision, version: str = SHOWN.version) -> None:
    data = callbacks.sign(SECRET, CHAT, decision, SHOWN.id, version)
    on_press(ctx, IncomingPress(1, "cb-1", CHAT, CHAT, CARD, data))


def queued(store: InMemoryStore) -> OutboxEntry:
    [entry] = store.due(math.inf, 10)
    return entry


# --- what a decision carries ----------------------------------------------------------------------


def test_a_press_carries_the_task_and_document_versions_its_card_showed(
    ctx: FlowContext, store: InMemoryStore
) -> None:
    press(ctx, Decision.APPROVE)
    request = queued(store).request
    assert (request.expected_version, request.expected_subject_version) == (
        "AAAAAQ==.AAAAAg==",
        "AAAAAg==",
    )


def test_a_press_while_1c_is_down_carries_the_versions_of_the_card_sent(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC
) -> None:
    onec.error = DOWN
    press(ctx, Decision.APPROVE)
    request = queued(store).request
    assert (request.expected_version, request.expected_subject_version) == (
        SHOWN.version,
        SHOWN.subject.version,
    )


def test_a_return_carries_the_versions_of_the_card_pressed_not_of_the_reason_time(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC
) -> None:
    press(ctx, Decision.RETURN_INITIATOR)
    onec.add(EDITED)  # the document is edited while the reason is typed
    prompt = store.get_prompt(CHAT)
    assert prompt is not None
    reply = IncomingMessage(2, CHAT, CHAT, 7, "Нет счёта", None, prompt.prompt_message_id)
    on_reason(ctx, reply, prompt, LINK)
    request = queued(store).request
    assert request.expected_subject_version == SHOWN.subject.version
    assert request.comment == "Нет счёта"


def test_a_press_on_a_card_whose_document_changed_is_refused_and_the_card_refreshed(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    """A source whose task version leaves the document out: the card's record still tells."""
    onec.add(replace(SHOWN, subject=replace(SHOWN.subject, version="AAAAAw==")))
    press(ctx, Decision.APPROVE)
    assert store.outbox_depth() == 0
    assert messenger.answer_texts() == [ctx.texts.t("alert.stale")]
    current = store.get_delivery(SHOWN.id, CHAT)
    assert current is not None and current.subject_version == "AAAAAw=="


# --- what the outbox does with 1C's answers -------------------------------------------------------


def test_a_decision_on_a_document_edited_since_its_card_writes_nothing_and_brings_the_new_card(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    onec.error = DOWN
    press(ctx, Decision.APPROVE)  # queued against the card sent
    onec.error = None
    onec.add(EDITED)
    entry = queued(store)
    assert apply(ctx, entry, "lease") == "stale"
    assert onec.written == []
    assert store.get_entry(entry.id) is None  # completed, neither retried nor given up
    assert "документ изменился после того, как вы его открыли" in messenger.edited(CARD)
    current = store.get_delivery(SHOWN.id, CHAT)
    assert current is not None and current.message_id != CARD
    assert (current.version, current.subject_version, current.deciding) == (
        EDITED.version,
        "AAAAAw==",
        "",
    )


def test_a_decision_1c_refuses_is_final_and_shows_1c_text_escaped(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    onec.outcome = Refused("1C", "Лимит <ЦФО> & резерв исчерпан")
    press(ctx, Decision.APPROVE)
    entry = queued(store)
    assert apply(ctx, entry, "lease") == "refused"
    assert len(onec.requests) == 1 and onec.written == []
    assert store.get_entry(entry.id) is None  # completed, neither retried nor given up
    told = "1С отказалась выполнить решение: Лимит &lt;ЦФО&gt; &amp; резерв исчерпан"
    assert told in messenger.edited(CARD)


def test_an_entry_queued_without_versions_is_written_without_comparing(
    ctx: FlowContext, store: InMemoryStore, onec: FakeOneC
) -> None:
    onec.error = DOWN
    press(ctx, Decision.APPROVE)
    onec.error = None
    onec.add(EDITED)
    entry = queued(store)
    old = replace(entry.request, expected_version="", expected_subject_version="")
    assert apply(ctx, replace(entry, request=old), "lease") == "applied"
    assert onec.written == [old]


# --- the adapters' reading of 1C's answers --------------------------------------------------------


def test_409_stale_is_a_stale_decision_with_the_current_task() -> None:
    error = error_for(409, "stale", "the document changed", task_to_dict(EDITED))
    assert isinstance(error, StaleDecision) and not error.retryable
    assert error.task == EDITED


def test_409_already_completed_stays_already_completed() -> None:
    assert isinstance(error_for(409, "already_completed", ""), AlreadyCompleted)


def test_422_refused_is_final_with_1c_text() -> None:
    error = error_for(422, "refused", "Нет лимита")
    assert isinstance(error, Refused) and not error.retryable and error.message == "Нет лимита"


@pytest.mark.parametrize(
    "text",
    [
        "Конфликт блокировок при выполнении транзакции: ...",
        "Превышено максимальное время ожидания предоставления блокировки",
        "Ошибка СУБД: deadlock detected",
        "Lock conflict during transaction",
    ],
)
def test_an_odata_lock_conflict_or_timeout_stays_retryable(text: str) -> None:
    error = refusal_or_transient(UpstreamApplicationError("1C", "-1", text))
    assert isinstance(error, UpstreamApplicationError) and error.retryable


def test_an_odata_exception_in_1c_code_on_a_write_is_a_refusal_with_its_text() -> None:
    text = "Ошибка при вызове метода контекста (Записать): Сумма превышает лимит"
    error = refusal_or_transient(UpstreamApplicationError("1C", "-1", text))
    assert isinstance(error, Refused) and error.message == text
