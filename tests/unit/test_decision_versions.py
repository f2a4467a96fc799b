"""Approve only what you saw (design 6.12) and refusals are final (6.13): the decision use
case with hand-written fakes of the ports, and the adapters' mapping of 1C's answers.

The fake 1C behaves as contract v1 says: a decision whose versions differ from the task's
answers `stale` and writes nothing; a refusal by 1C's code answers `refused`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from adapters.onec.contract_errors import error_for
from adapters.onec.contract_json import task_to_dict
from adapters.onec.odata_errors import refusal_or_transient
from gateway.domain.incoming import IncomingMessage, IncomingPress
from gateway.domain.records import (
    DecisionRequest,
    Delivery,
    MessageRef,
    OutboxEntry,
    Prompt,
    UserLink,
)
from gateway.domain.tasks import Decision, Task
from gateway.errors import (
    AlreadyCompleted,
    Refused,
    StaleDecision,
    UpstreamApplicationError,
    UpstreamUnavailable,
)
from gateway.ports.messenger import Sent
from gateway.presentation import callbacks
from gateway.presentation.texts import Texts
from gateway.usecases.context import FlowContext
from gateway.usecases.outbox import apply
from gateway.usecases.press import on_press, on_reason
from tests.unit.test_documents import CountingRenderer, make_task

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


class FakeOneC:
    """1C with one task: decisions are compared with it, refused, or fail while 1C is down."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.down = False
        self.refusal = ""
        self.requests: list[DecisionRequest] = []
        self.written: list[DecisionRequest] = []

    def _up(self) -> None:
        if self.down:
            raise UpstreamUnavailable("1C", "connection refused")

    def get_task(self, task_id: str) -> Task:
        self._up()
        return self.task

    def find_users_by_phone(self, phone: str) -> list:
        raise UpstreamUnavailable("1C", "not asked in these tests")

    def print_form(self, task: Task) -> None:
        return None

    def submit_decision(self, request: DecisionRequest) -> Task:
        self._up()
        self.requests.append(request)
        task = self.task
        if request.expected_version and request.expected_version != task.version:
            raise StaleDecision("1C", "the task changed", task)
        if (
            request.expected_subject_version
            and request.expected_subject_version != task.subject.version
        ):
            raise StaleDecision("1C", "the document changed", task)
        if self.refusal:
            raise Refused("1C", self.refusal)
        self.written.append(request)
        return task


class FakeStore:
    """Cards, prompts, links and the outbox in memory."""

    def __init__(self) -> None:
        self.link = UserLink(CHAT, CHAT, "performer-of-task-1", "Иванова", "79120000000", NOW)
        self.cards: dict[tuple[str, int], Delivery] = {}
        self.prompts: dict[int, Prompt] = {}
        self.outbox: dict[str, OutboxEntry] = {}
        self.completed: list[str] = []
        self.rescheduled: list[str] = []
        self.dead: list[str] = []

    def get_link(self, telegram_user_id: int) -> UserLink | None:
        return self.link if telegram_user_id == CHAT else None

    def all_links(self) -> list[UserLink]:
        return [self.link]

    def group_admins(self) -> frozenset[str]:
        return frozenset()

    def claim_delivery(self, task_id: str, chat_id: int, version: str) -> bool:
        held = self.cards.get((task_id, chat_id))
        return held is None or held.version != version

    def save_delivery(self, delivery: Delivery) -> None:
        self.cards[(delivery.task_id, delivery.chat_id)] = delivery

    def get_delivery(self, task_id: str, chat_id: int) -> Delivery | None:
        return self.cards.get((task_id, chat_id))

    def deliveries_for_task(self, task_id: str) -> list[Delivery]:
        return [d for (t, _), d in self.cards.items() if t == task_id]

    def close_delivery(self, task_id: str, chat_id: int) -> None:
        self.cards.pop((task_id, chat_id), None)

    def remember_message(self, ref: MessageRef, task_id: str) -> None:
        pass

    def save_prompt(self, prompt: Prompt) -> None:
        self.prompts[prompt.chat_id] = prompt

    def get_prompt(self, chat_id: int) -> Prompt | None:
        return self.prompts.get(chat_id)

    def delete_prompt(self, chat_id: int) -> None:
        self.prompts.pop(chat_id, None)

    def enqueue(self, entry: OutboxEntry) -> bool:
        if entry.id in self.outbox:
            return False
        self.outbox[entry.id] = entry
        return True

    def complete(self, entry_id: str, lease: str) -> bool:
        self.outbox.pop(entry_id)
        self.completed.append(entry_id)
        return True

    def reschedule(
        self, entry_id: str, lease: str, attempts: int, next_at: float, error: str
    ) -> bool:
        self.rescheduled.append(entry_id)
        return True

    def dead_letter(self, entry_id: str, lease: str, error: str) -> bool:
        self.dead.append(entry_id)
        return True


class FakeMessenger:
    """Records what the approver would see: messages sent, edits, answers to presses."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.edits: dict[int, str] = {}
        self.answers: list[str] = []
        self.next_id = 100

    def _sent(self, chat_id: int, html: str) -> Sent:
        self.next_id += 1
        self.sent.append(html)
        return Sent(MessageRef(chat_id, self.next_id))

    def send_text(self, chat_id: int, html: str, markup=None, reply_to=None) -> Sent:
        return self._sent(chat_id, html)

    def send_document(self, chat_id: int, document, caption_html: str, markup=None) -> Sent:
        return self._sent(chat_id, caption_html)

    def edit(self, ref: MessageRef, html: str, *, is_caption: bool, keyboard=()) -> None:
        self.edits[ref.message_id] = html

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        self.answers.append(text)


class FakeDocuments:
    def get_pdf(self, key: str) -> None:
        return None

    def put_pdf(self, key: str, content: bytes) -> None:
        pass

    def get_file_id(self, key: str) -> None:
        return None

    def put_file_id(self, key: str, file_id: str) -> None:
        pass


@pytest.fixture
def onec() -> FakeOneC:
    return FakeOneC(SHOWN)


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
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
def ctx(store: FakeStore, onec: FakeOneC, messenger: FakeMessenger) -> FlowContext:
    return FlowContext.over(
        onec=onec,  # type: ignore[arg-type]
        messenger=messenger,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        renderer=CountingRenderer(),  # type: ignore[arg-type]
        documents=FakeDocuments(),  # type: ignore[arg-type]
        texts=Texts("ru"),
        secret=SECRET,
        now=lambda: NOW,
    )


def press(ctx: FlowContext, decision: Decision, version: str = SHOWN.version) -> None:
    data = callbacks.sign(SECRET, CHAT, decision, SHOWN.id, version)
    on_press(ctx, IncomingPress(1, "cb-1", CHAT, CHAT, CARD, data))


def queued(store: FakeStore) -> OutboxEntry:
    [entry] = store.outbox.values()
    return entry


# --- what a decision carries ----------------------------------------------------------------------


def test_a_press_carries_the_task_and_document_versions_its_card_showed(
    ctx: FlowContext, store: FakeStore
) -> None:
    press(ctx, Decision.APPROVE)
    request = queued(store).request
    assert (request.expected_version, request.expected_subject_version) == (
        "AAAAAQ==.AAAAAg==",
        "AAAAAg==",
    )


def test_a_press_while_1c_is_down_carries_the_versions_of_the_card_sent(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC
) -> None:
    onec.down = True
    press(ctx, Decision.APPROVE)
    request = queued(store).request
    assert (request.expected_version, request.expected_subject_version) == (
        SHOWN.version,
        SHOWN.subject.version,
    )


def test_a_return_carries_the_versions_of_the_card_pressed_not_of_the_reason_time(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC
) -> None:
    press(ctx, Decision.RETURN_INITIATOR)
    onec.task = EDITED  # the document is edited while the reason is typed
    prompt = store.prompts[CHAT]
    reply = IncomingMessage(2, CHAT, CHAT, 7, "Нет счёта", None, prompt.prompt_message_id)
    on_reason(ctx, reply, prompt, store.link)
    request = queued(store).request
    assert request.expected_subject_version == SHOWN.subject.version
    assert request.comment == "Нет счёта"


def test_a_press_on_a_card_whose_document_changed_is_refused_and_the_card_refreshed(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    """A source whose task version leaves the document out: the card's record still tells."""
    onec.task = replace(SHOWN, subject=replace(SHOWN.subject, version="AAAAAw=="))
    press(ctx, Decision.APPROVE)
    assert store.outbox == {}
    assert messenger.answers == [ctx.texts.t("alert.stale")]
    current = store.get_delivery(SHOWN.id, CHAT)
    assert current is not None and current.subject_version == "AAAAAw=="


# --- what the outbox does with 1C's answers -------------------------------------------------------


def test_a_decision_on_a_document_edited_since_its_card_writes_nothing_and_brings_the_new_card(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    onec.down = True
    press(ctx, Decision.APPROVE)  # queued against the card sent
    onec.down = False
    onec.task = EDITED
    entry = queued(store)
    assert apply(ctx, entry, "lease") == "stale"
    assert onec.written == []
    assert store.completed == [entry.id] and store.rescheduled == [] and store.dead == []
    assert "документ изменился после того, как вы его открыли" in messenger.edits[CARD]
    current = store.get_delivery(SHOWN.id, CHAT)
    assert current is not None and current.message_id != CARD
    assert (current.version, current.subject_version, current.deciding) == (
        EDITED.version,
        "AAAAAw==",
        "",
    )


def test_a_decision_1c_refuses_is_final_and_shows_1c_text_escaped(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    onec.refusal = "Лимит <ЦФО> & резерв исчерпан"
    press(ctx, Decision.APPROVE)
    entry = queued(store)
    assert apply(ctx, entry, "lease") == "refused"
    assert len(onec.requests) == 1 and onec.written == []
    assert store.completed == [entry.id] and store.rescheduled == [] and store.dead == []
    told = "1С отказалась выполнить решение: Лимит &lt;ЦФО&gt; &amp; резерв исчерпан"
    assert told in messenger.edits[CARD]


def test_an_entry_queued_without_versions_is_written_without_comparing(
    ctx: FlowContext, store: FakeStore, onec: FakeOneC
) -> None:
    onec.down = True
    press(ctx, Decision.APPROVE)
    onec.down = False
    onec.task = EDITED
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
