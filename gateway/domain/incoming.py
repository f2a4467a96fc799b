"""What arrives from Telegram, as the core needs it: a message or a button press.

The Telegram adapter turns Bot API updates into these; the core never sees Telegram's types.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Contact:
    """A shared contact; `user_id` is the Telegram user it belongs to (None if not a user's)."""

    phone: str
    user_id: int | None
    first_name: str = ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A private message to the bot: text, a command, or a shared contact."""

    update_id: int
    chat_id: int
    user_id: int
    message_id: int
    text: str = ""
    contact: Contact | None = None
    reply_to_message_id: int | None = None
    user_name: str = ""
    """The sender's Telegram name: first and last name, else @username."""

    @property
    def command(self) -> tuple[str, str] | None:
        """`("/start", "payload")` for a command message, else None."""
        if not self.text.startswith("/"):
            return None
        head, _, rest = self.text.partition(" ")
        return head.split("@", 1)[0].lower(), rest.strip()


@dataclass(frozen=True, slots=True)
class IncomingPress:
    """An inline button pressed on one of the bot's messages."""

    update_id: int
    callback_id: str
    chat_id: int
    user_id: int
    message_id: int
    data: str
    user_name: str = ""
    """The presser's Telegram name: first and last name, else @username."""


Incoming = IncomingMessage | IncomingPress
