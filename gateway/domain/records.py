"""Records the gateway keeps about its users and messages: links, cards sent, reasons being
typed and decisions on their way to 1C."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.tasks import Decision


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A Telegram message: message ids are unique only within a chat, so the key is both."""

    chat_id: int
    message_id: int

    @property
    def key(self) -> str:
        """A stable text key, `<chat_id>:<message_id>`."""
        return f"{self.chat_id}:{self.message_id}"


@dataclass(frozen=True, slots=True)
class UserLink:
    """The link between a Telegram user and the 1C user with the same phone."""

    telegram_user_id: int
    chat_id: int
    onec_user_id: str
    onec_user_name: str
    phone: str
    linked_at: datetime
    is_admin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The link as JSON values (`linked_at` as ISO 8601 text): what `links list --json`
        prints and what the Redis store keeps."""
        return {
            "telegram_user_id": self.telegram_user_id,
            "chat_id": self.chat_id,
            "onec_user_id": self.onec_user_id,
            "onec_user_name": self.onec_user_name,
            "phone": self.phone,
            "linked_at": self.linked_at.isoformat(),
            "is_admin": self.is_admin,
        }


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """An approver's decision on its way to 1C.

    `idempotency_key` is derived from the approver's press, so every retry of the same press
    carries the same key and 1C applies it once. `expected_version` and
    `expected_subject_version` are the task and document versions the approver's card showed:
    1C writes nothing if either changed since (design 6.12). Empty means unknown (a decision
    queued before versions were carried): then nothing is compared.
    `telegram_user_id` and `telegram_user_name` name the Telegram account that pressed, for
    1C's audit of decisions (the name is empty in entries queued before it was carried).
    """

    task_id: str
    decision: Decision
    comment: str
    user_id: str
    user_name: str
    idempotency_key: str
    requested_at: datetime
    telegram_user_id: int | None = None
    message: MessageRef | None = field(default=None)
    expected_version: str = ""
    expected_subject_version: str = ""
    telegram_user_name: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A task card sent to one chat: which message, which task version it shows, and when."""

    task_id: str
    chat_id: int
    message_id: int
    version: str
    is_caption: bool
    delivered_at: datetime
    text: str = ""  # the card's HTML as sent, so outcome edits keep it without asking 1C
    reminded_at: datetime | None = None
    deciding: str = ""  # a decision from this card is in the outbox: the outbox closes the card
    subject_version: str = ""  # the document version the card shows (a decision must match it)

    @property
    def ref(self) -> MessageRef:
        """The card's message."""
        return MessageRef(self.chat_id, self.message_id)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A return waiting for its reason: the ForceReply message asking for it and the press."""

    chat_id: int
    prompt_message_id: int
    task_id: str
    decision: Decision
    version: str
    card_message_id: int
    created_at: datetime
    subject_version: str = ""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A decision on its way to 1C, stored before the approver is told anything."""

    request: DecisionRequest
    subject: str
    is_caption: bool
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""

    @property
    def id(self) -> str:
        """The idempotency key: one entry per approver's press."""
        return self.request.idempotency_key
