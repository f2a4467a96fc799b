"""The emulator's in-memory world: users, private chats, messages, updates, files, webhook."""

from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram.config import SandboxConfig
from sandbox.telegram.flood import FloodControl
from sandbox.telegram.formatting import find_auto_entities

# Update kinds delivered when allowed_updates is unset or empty, as documented for getUpdates.
NOT_DELIVERED_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
CALL_LOG_SIZE = 20_000


class ControlError(Exception):
    """A control-API request that cannot be done; `status` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class StoredFile:
    """A file the bot uploaded, kept with its bytes."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    data: bytes
    file_path: str


@dataclass
class CallbackQuery:
    """A button press waiting for (or given) answerCallbackQuery."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float  # monotonic
    answer: dict[str, Any] | None = None


@dataclass
class Webhook:
    """The webhook setWebhook configured."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


@dataclass
class Chat:
    """A private chat between the bot and one user (chat id = user id)."""

    id: int
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None
    force_reply: dict[str, Any] | None = None
    last_action: str | None = None


class SandboxState:
    """Everything the emulated Telegram knows; every access holds `lock`."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        # Signalled on any new update, webhook change or reset: long polls and delivery wait on it.
        self.changed = threading.Condition(self.lock)
        self.flood = FloodControl(
            config.global_per_second,
            config.chat_per_second,
            config.chat_burst,
            mode=config.flood_mode,
        )
        self.closed = False
        self.reset()

    def reset(self) -> None:
        """Empty state: no users, chats, updates, files, webhook or log; flood limits and latency
        as started."""
        with self.lock:
            self.users: dict[int, dict[str, Any]] = {}
            self.phones: dict[int, str] = {}
            self.chats: dict[int, Chat] = {}
            self.updates: list[dict[str, Any]] = []
            self.update_ids = itertools.count(1)
            self.allowed_updates: list[str] = []
            self.webhook: Webhook | None = None
            self.webhook_last_error: tuple[int, str] | None = None
            self.files: dict[str, StoredFile] = {}
            self.file_numbers = itertools.count(1)
            self.callback_queries: dict[str, CallbackQuery] = {}
            self.callback_numbers = itertools.count(1)
            self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
            self.calls: list[dict[str, Any]] = []
            self.poll_generation = 0
            self.flood.set_limits(
                self.config.global_per_second, self.config.chat_per_second, self.config.flood_mode
            )
            self.latency = self.config.latency_seconds
            self.changed.notify_all()

    def close(self) -> None:
        """Wake every waiter so the server can stop without hanging on a long poll."""
        with self.lock:
            self.closed = True
            self.changed.notify_all()

    # --- the bot ---------------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot as a User object (what getMe answers, minus the bot-only flags)."""
        return {
            "id": self.config.bot_id,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }

    # --- users and chats -------------------------------------------------------------------------

    def add_user(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create (or update) a user and their private chat; answers the User object."""
        with self.lock:
            user_id = spec.get("id")
            if user_id is None:
                user_id = max([100_000_000, *self.users]) + 1
            if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
                raise ControlError(400, "id must be a positive integer")
            first_name = spec.get("first_name") or f"User {user_id}"
            user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
            for key in ("last_name", "username", "language_code"):
                if spec.get(key):
                    user[key] = str(spec[key])
            self.users[user_id] = user
            if spec.get("phone"):
                self.phones[user_id] = str(spec["phone"])
            self.chats.setdefault(user_id, Chat(user_id))
            return copy.deepcopy(user)

    def user(self, user_id: int) -> dict[str, Any]:
        """The User object of a sandbox user, or a 404 control error."""
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"user {user_id} not found")
        return user

    def chat_object(self, chat_id: int) -> dict[str, Any]:
        """The Chat object of a private chat, as messages carry it."""
        user = self.users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def chat_instance(self, chat_id: int) -> str:
        """A stable opaque string per chat, as callback queries carry it."""
        return str((chat_id * 2654435761 + 7046029254386353131) % 10**19)

    def new_message(self, chat_id: int, sender: dict[str, Any]) -> dict[str, Any]:
        """A message skeleton with the chat's next id; the caller fills it and stores it."""
        chat = self.chats[chat_id]
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return {
            "message_id": message_id,
            "from": copy.deepcopy(sender),
            "chat": self.chat_object(chat_id),
            "date": int(time.time()),
        }

    def store(self, message: dict[str, Any]) -> dict[str, Any]:
        """Keep a message in its chat; answers a copy (callers must not share our dicts)."""
        self.chats[message["chat"]["id"]].messages[message["message_id"]] = message
        return copy.deepcopy(message)

    def find_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A stored message, or None."""
        chat = self.chats.get(chat_id)
        return None if chat is None else chat.messages.get(message_id)

    def reply_snapshot(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The replied-to message as Telegram embeds it: one level deep, no nested reply."""
        message = self.find_message(chat_id, message_id)
        if message is None:
            return None
        snapshot = copy.deepcopy(message)
        snapshot.pop("reply_to_message", None)
        return snapshot

    # --- what users do ---------------------------------------------------------------------------

    def user_sends(self, user_id: int, request: dict[str, Any]) -> dict[str, Any]:
        """The user sends text or a contact, optionally as a reply; answers the Update."""
        with self.lock:
            user = self.user(user_id)
            chat = self.chats[user_id]
            if chat.blocked:
                # Writing to a blocked bot means restarting it first, as Telegram's app does.
                self._set_blocked(user_id, False)
            message = self.new_message(user_id, user)
            reply_to = request.get("reply_to_message_id")
            if reply_to is not None:
                snapshot = self.reply_snapshot(user_id, int(reply_to))
                if snapshot is None:
                    raise ControlError(404, f"message {reply_to} not found in chat {user_id}")
                message["reply_to_message"] = snapshot
            if "contact" in request:
                message["contact"] = self._contact(user, request["contact"])
            elif isinstance(request.get("text"), str) and request["text"].strip():
                message["text"] = request["text"]
                entities = find_auto_entities(request["text"], [])
                if entities:
                    message["entities"] = entities
            else:
                raise ControlError(400, "send needs a non-empty text or a contact")
            self.store(message)
            return self.push_update("message", copy.deepcopy(message))

    def _contact(self, user: dict[str, Any], spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise ControlError(400, "contact must be an object")
        own = "phone_number" not in spec and "user_id" not in spec
        phone = spec.get("phone_number") or (self.phones.get(user["id"]) if own else None)
        if not phone:
            raise ControlError(400, "contact needs phone_number (or the user must have a phone)")
        contact: dict[str, Any] = {
            "phone_number": str(phone),
            "first_name": spec.get("first_name") or user["first_name"],
        }
        last_name = spec.get("last_name", user.get("last_name") if own else None)
        if last_name:
            contact["last_name"] = last_name
        contact_user = user["id"] if own else spec.get("user_id")
        if contact_user is not None:
            contact["user_id"] = int(contact_user)
        return contact

    def user_presses(
        self, user_id: int, message_id: int | None, button: str, data: str | None = None
    ) -> dict[str, Any]:
        """The user presses a button by its visible text; answers the Update it makes.

        With a message id it is an inline button of that message (a callback query); without, a
        button of the reply keyboard the bot showed (its text, or the user's own contact).
        `data` replaces the button's callback data, as a modified client can send any data.
        """
        with self.lock:
            user = self.user(user_id)
            if message_id is None:
                return self._press_reply_keyboard(user_id, button)
            message = self.find_message(user_id, message_id)
            if message is None:
                raise ControlError(404, f"message {message_id} not found in chat {user_id}")
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            found = next((b for row in rows for b in row if b.get("text") == button), None)
            if found is None:
                raise ControlError(404, f"message {message_id} has no inline button {button!r}")
            if "callback_data" not in found:
                raise ControlError(400, f"button {button!r} sends nothing to the bot")
            sent_data = found["callback_data"] if data is None else data
            query_id = str(4_000_000_000_000_000_000 + next(self.callback_numbers))
            self.callback_queries[query_id] = CallbackQuery(
                query_id, user_id, user_id, message_id, sent_data, time.monotonic()
            )
            return self.push_update(
                "callback_query",
                {
                    "id": query_id,
                    "from": copy.deepcopy(user),
                    "message": copy.deepcopy(message),
                    "chat_instance": self.chat_instance(user_id),
                    "data": sent_data,
                },
            )

    def _press_reply_keyboard(self, user_id: int, button: str) -> dict[str, Any]:
        chat = self.chats[user_id]
        keyboard = chat.reply_keyboard or {}
        rows = keyboard.get("keyboard", [])
        buttons = [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]
        found = next((b for b in buttons if b.get("text") == button), None)
        if found is None:
            raise ControlError(404, f"the reply keyboard of chat {user_id} has no {button!r}")
        if keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        if found.get("request_contact"):
            return self.user_sends(user_id, {"contact": {}})
        return self.user_sends(user_id, {"text": button})

    def set_blocked(self, user_id: int, blocked: bool) -> dict[str, Any]:
        """The user blocks or unblocks the bot; answers the my_chat_member Update."""
        with self.lock:
            self.user(user_id)
            return self._set_blocked(user_id, blocked)

    def _set_blocked(self, user_id: int, blocked: bool) -> dict[str, Any]:
        self.chats[user_id].blocked = blocked
        bot = self.bot_user()
        before, after = ("member", "kicked") if blocked else ("kicked", "member")
        old: dict[str, Any] = {"status": before, "user": bot}
        new: dict[str, Any] = {"status": after, "user": bot}
        if blocked:
            new["until_date"] = 0
        else:
            old["until_date"] = 0
        return self.push_update(
            "my_chat_member",
            {
                "chat": self.chat_object(user_id),
                "from": copy.deepcopy(self.users[user_id]),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    # --- updates ---------------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update (unless allowed_updates leaves its kind out); answers it either way."""
        update = {"update_id": next(self.update_ids), kind: payload}
        if self.allows(kind):
            self.updates.append(update)
            self.changed.notify_all()
        return copy.deepcopy(update)

    def allows(self, kind: str) -> bool:
        """Whether the current allowed_updates setting lets this kind of update through."""
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_DELIVERED_BY_DEFAULT

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below `offset` (getUpdates' way of confirming them)."""
        self.updates = [u for u in self.updates if u["update_id"] >= offset]

    # --- files and log ---------------------------------------------------------------------------

    def add_file(self, file_name: str, mime_type: str, data: bytes) -> StoredFile:
        """Keep an uploaded file under a new file_id."""
        number = next(self.file_numbers)
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAIB{number:06d}sandbox{self.config.bot_id}",
            file_unique_id=f"AgAD{number:06d}",
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            file_path=f"documents/file_{number}.{extension}",
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """The file getFile gave this path to, or None."""
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    def log_call(self, entry: dict[str, Any]) -> None:
        """Append one Bot API call to the call log (the newest CALL_LOG_SIZE are kept)."""
        with self.lock:
            self.calls.append(entry)
            if len(self.calls) > CALL_LOG_SIZE:
                # Benchmarks make many calls; trimming in batches keeps appends cheap.
                del self.calls[: len(self.calls) - CALL_LOG_SIZE // 2]
