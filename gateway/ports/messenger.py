"""The messenger port (Telegram), the values its messages carry, and its flood limiter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from gateway.domain.records import MessageRef
from gateway.ports.pingable import Pingable


class TelegramMode(StrEnum):
    """How updates arrive (TELEGRAM_MODE)."""

    POLLING = "polling"
    WEBHOOK = "webhook"


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


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """A reply keyboard with one button that shares the user's own phone number."""

    button_text: str


@dataclass(frozen=True, slots=True)
class ForceReply:
    """Ask the user's app to open a reply to this message (for a return reason)."""

    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class RemoveKeyboard:
    """Remove a reply keyboard shown earlier (after the phone was shared)."""


Markup = Keyboard | ContactRequest | ForceReply | RemoveKeyboard


class Messenger(Pingable, Protocol):
    """Telegram as the core sees it: chats identified by id, HTML texts, keyboards.

    Raises RecipientBlocked when the user blocked the bot, RateLimited on flood control,
    UpstreamUnavailable when Telegram cannot be reached.
    """

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent: ...

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent: ...

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """Replace a message's text (or caption) and keyboard; an empty keyboard removes it.

        An edit that changes nothing is not an error; NotFound if the message is gone.
        """
        ...

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """Answer a button press (stops the spinner); `alert` shows a dialog instead of a toast."""
        ...

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """The bot's command menu: (command, description) pairs."""
        ...


class RateLimiter(Protocol):
    """Telegram's flood limits, shared by every process that sends."""

    def acquire(self, chat_id: int) -> float:
        """Seconds to wait before sending to `chat_id`; 0 means send now (a slot was taken,
        and the calling thread says `ended` when the send has its answer)."""
        ...

    def ended(self) -> None:
        """The send this thread was last let start has its answer, or failed."""
        ...

    def pause(self, seconds: float) -> None:
        """Everyone stops sending for `seconds` (Telegram answered 429 with retry_after), then
        sends slower for a while."""
        ...
