"""Ports: what the core needs from the outside world, as `typing.Protocol`s.

Adapters implement them structurally (no inheritance); the composition root picks which.
Every method may raise only errors from `gateway.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.domain import DecisionRequest, MessageRef, OneCUser, Task, UserLink


class Pingable(Protocol):
    """Anything the readiness check and `check` can probe; raises a GatewayError when down."""

    def ping(self) -> None: ...


class TaskSource(Pingable, Protocol):
    """1C as the source of approval tasks and of the users who decide them."""

    def pending_tasks(self) -> Iterable[Task]:
        """Every pending approval task, in a stable order."""
        ...

    def get_task(self, task_id: str) -> Task:
        """One task in whatever state it is; NotFound if 1C has no such task."""
        ...

    def find_users_by_phone(self, phone: str) -> Sequence[OneCUser]:
        """Valid 1C users with this phone (digits only, country code first)."""
        ...

    def print_form(self, task: Task) -> bytes | None:
        """1C's own print form of the task's subject as PDF, or None where 1C has none."""
        ...


class DecisionSink(Protocol):
    """1C as the place decisions are written to."""

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Apply the decision once (retries with the same idempotency key change nothing).

        Returns the task's new state; AlreadyCompleted if it was done before, NotPerformer if
        the user may not decide it.
        """
        ...


class OneC(TaskSource, DecisionSink, Protocol):
    """A 1C connector: OData, the HTTP service or the SOAP web service."""


class PdfRenderer(Pingable, Protocol):
    """Renders the document under approval as a PDF the approver reads on a phone."""

    @property
    def engine(self) -> str:
        """The engine's name, part of the cache key (`pdfkit`, `weasyprint`)."""
        ...

    def render(self, task: Task) -> bytes:
        """The task's subject as PDF bytes."""
        ...

    def template_for(self, task: Task) -> str:
        """A short, stable name of the template and its content version for `task`.

        Part of the rendition key, so an edited template makes a new rendition.
        """
        ...


class DocumentCache(Protocol):
    """Rendered PDFs and their Telegram file ids, by rendition key, so each is made once.

    The key names subject, version, template and engine; a new document version is a new key.
    """

    def get_pdf(self, key: str) -> bytes | None: ...

    def put_pdf(self, key: str, content: bytes) -> None: ...

    def get_file_id(self, key: str) -> str | None: ...

    def put_file_id(self, key: str, file_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: visible text and signed callback data (≤ 64 bytes)."""

    text: str
    callback_data: str


Keyboard = Sequence[Sequence[Button]]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document to send: bytes for a first upload, or the Bot API file id of an earlier one."""

    filename: str
    content: bytes | None = None
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What the messenger reports back for a sent message."""

    ref: MessageRef
    file_id: str | None = None


class Messenger(Pingable, Protocol):
    """Telegram as the core sees it: chats identified by id, HTML texts, inline keyboards."""

    def send_text(self, chat_id: int, html: str, keyboard: Keyboard = ()) -> Sent: ...

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, keyboard: Keyboard = ()
    ) -> Sent: ...

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """Replace a message's text (or caption) and keyboard; an empty keyboard removes it."""
        ...


class LinkStore(Protocol):
    """Links between Telegram users and 1C users."""

    def save_link(self, link: UserLink) -> None: ...

    def get_link(self, telegram_user_id: int) -> UserLink | None: ...

    def links_for_onec_user(self, onec_user_id: str) -> list[UserLink]: ...

    def delete_link(self, telegram_user_id: int) -> None: ...


class MessageStore(Protocol):
    """Which Telegram messages show which task."""

    def remember_message(self, ref: MessageRef, task_id: str) -> None: ...

    def task_for_message(self, ref: MessageRef) -> str | None: ...

    def messages_for_task(self, task_id: str) -> list[MessageRef]: ...


class Store(Pingable, LinkStore, MessageStore, Protocol):
    """The gateway's only state: Redis, every key under REDIS_PREFIX."""
