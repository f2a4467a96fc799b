"""Factories of domain values for tests: one approval task, link, card, prompt or decision
with plausible Russian content, and keyword overrides for what a test is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from gateway.domain.incoming import Contact, IncomingMessage, IncomingPress
from gateway.domain.records import (
    DecisionRequest,
    Delivery,
    MessageRef,
    OutboxEntry,
    Prompt,
    UserLink,
)
from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    OneCUser,
    Person,
    Stage,
    Subject,
    Table,
    Task,
    TaskState,
)
from tests.fakes import MSK, NOW

TASK_VERSION: Final = "AAAAAQ==.AAAAAg=="
FIELDS: Final = (Field("Номер", "0000-000042"), Field("Сумма", "1 250 000,00"))
TABLES: Final = (Table("Расшифровка", ("№", "Сумма"), (("1", "1 250 000,00"),)),)
SUBJECT_TYPE: Final = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
INITIATOR: Final = Person("p-2", "Петров Пётр Петрович")
PERFORMER_NAME: Final = "Иванова Мария Сергеевна"


def make_person(person_id: str = "p-1", name: str = PERFORMER_NAME) -> Person:
    """A 1C user as a task refers to one."""
    return Person(person_id, name)


def make_subject(
    subject_id: str = "d-42",
    *,
    fields: tuple[Field, ...] = FIELDS,
    tables: tuple[Table, ...] = TABLES,
    version: str = "",
    **changes: Any,
) -> Subject:
    """The payment request under approval; `changes` set any other Subject field."""
    subject = Subject(
        type=SUBJECT_TYPE,
        id=subject_id,
        presentation="Заявка на расходование денежных средств 0000-000042 от 27.11.2026",
        fields=fields,
        tables=tables,
        version=version,
    )
    return replace(subject, **changes)


def make_task(
    task_id: str = "task-1",
    version: str = TASK_VERSION,
    *,
    fields: tuple[Field, ...] | None = None,
    tables: tuple[Table, ...] | None = None,
    subject_version: str | None = None,
    **changes: Any,
) -> Task:
    """A pending approval of payment request 0000-000042 at stage 2 of 3, performed by
    `performer-of-<task_id>`, approve only.

    `fields`, `tables` and `subject_version` change the default subject (a `subject=` in
    `changes` replaces it whole); `changes` set any other Task field.
    """
    subject_changes: dict[str, Any] = {}
    if fields is not None:
        subject_changes["fields"] = fields
    if tables is not None:
        subject_changes["tables"] = tables
    if subject_version is not None:
        subject_changes["version"] = subject_version
    task = Task(
        id=task_id,
        version=version,
        number="000000123",
        created_at=datetime(2026, 11, 27, 10, 15, tzinfo=MSK),
        due_at=datetime(2026, 11, 30, 18, 0, tzinfo=MSK),
        importance=Importance.NORMAL,
        state=TaskState.PENDING,
        title="Согласовать заявку 0000-000042",
        performer=make_person(f"performer-of-{task_id}"),
        initiator=INITIATOR,
        stage=Stage("Финансовый контролер", 2, 3),
        subject=make_subject(**subject_changes),
        allowed_decisions=(Decision.APPROVE,),
    )
    return replace(task, **changes)


def make_onec_user(
    user_id: str = "onec-1", name: str = PERFORMER_NAME, phones: tuple[str, ...] = ("79120000000",)
) -> OneCUser:
    """A 1C user as found by phone."""
    return OneCUser(user_id, name, phones)


def make_link(
    telegram_user_id: int = 200,
    onec_user_id: str | None = None,
    *,
    name: str = PERFORMER_NAME,
    phone: str = "79120000000",
    chat_id: int | None = None,
    admin: bool = False,
    linked_at: datetime = NOW,
) -> UserLink:
    """A Telegram user (chat id = user id unless told) linked to `onec-<telegram user id>`."""
    return UserLink(
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id if chat_id is None else chat_id,
        onec_user_id=f"onec-{telegram_user_id}" if onec_user_id is None else onec_user_id,
        onec_user_name=name,
        phone=phone,
        linked_at=linked_at,
        is_admin=admin,
    )


def make_delivery(
    task: Task,
    chat_id: int = 200,
    message_id: int = 41,
    *,
    is_caption: bool = False,
    **changes: Any,
) -> Delivery:
    """The card of `task` in `chat_id`, at the task's and its document's versions."""
    delivery = Delivery(
        task_id=task.id,
        chat_id=chat_id,
        message_id=message_id,
        version=task.version,
        is_caption=is_caption,
        delivered_at=NOW,
        text=task.title,
        subject_version=task.subject.version,
    )
    return replace(delivery, **changes)


def make_prompt(
    task: Task,
    chat_id: int = 200,
    *,
    decision: Decision = Decision.RETURN_INITIATOR,
    prompt_message_id: int = 42,
    card_message_id: int = 41,
) -> Prompt:
    """A return of `task` waiting for its reason in `chat_id`."""
    return Prompt(
        chat_id=chat_id,
        prompt_message_id=prompt_message_id,
        task_id=task.id,
        decision=decision,
        version=task.version,
        card_message_id=card_message_id,
        created_at=NOW,
        subject_version=task.subject.version,
    )


def make_request(
    task_id: str = "task-1",
    decision: Decision = Decision.APPROVE,
    *,
    key: str | None = None,
    user_id: str | None = None,
    chat_id: int = 200,
    message_id: int = 41,
    **changes: Any,
) -> DecisionRequest:
    """A decision pressed on card `message_id` in `chat_id` by the task's default performer."""
    request = DecisionRequest(
        task_id=task_id,
        decision=decision,
        comment="",
        user_id=f"performer-of-{task_id}" if user_id is None else user_id,
        user_name=PERFORMER_NAME,
        idempotency_key=f"key-{task_id}-{decision.value}" if key is None else key,
        requested_at=NOW,
        telegram_user_id=chat_id,
        message=MessageRef(chat_id, message_id),
    )
    return replace(request, **changes)


def make_entry(request: DecisionRequest | None = None, **changes: Any) -> OutboxEntry:
    """An outbox entry of `request` (a default approval), due at once."""
    entry = OutboxEntry(
        request=make_request() if request is None else request,
        subject="Заявка на расходование денежных средств 0000-000042 от 27.11.2026",
        is_caption=False,
    )
    return replace(entry, **changes)


def make_press(
    data: str, *, chat_id: int = 200, message_id: int = 41, update_id: int = 1
) -> IncomingPress:
    """A press of a button carrying `data` on message `message_id`, by the chat's user."""
    return IncomingPress(update_id, f"cb-{update_id}", chat_id, chat_id, message_id, data)


def make_message(
    text: str = "",
    *,
    chat_id: int = 200,
    message_id: int = 50,
    update_id: int = 1,
    reply_to: int | None = None,
    contact: Contact | None = None,
) -> IncomingMessage:
    """A private message from the chat's user: text, a command, a reply or a contact."""
    return IncomingMessage(
        update_id=update_id,
        chat_id=chat_id,
        user_id=chat_id,
        message_id=message_id,
        text=text,
        contact=contact,
        reply_to_message_id=reply_to,
    )
