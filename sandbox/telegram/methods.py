"""The Bot API methods the emulator serves, each acting on SandboxState with Telegram's errors."""

from __future__ import annotations

import copy
import json
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sandbox.telegram.api_spec import Upload
from sandbox.telegram.errors import ApiError, bad_request, forbidden
from sandbox.telegram.formatting import format_text
from sandbox.telegram.markup import inline_markup_or_none, markup_kind
from sandbox.telegram.state import Chat, SandboxState, Webhook

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
CALLBACK_ANSWER_MAX = 200
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Methods that send or change a message count against flood control, keyed by their chat.
FLOOD_COUNTED = {
    "sendMessage",
    "sendDocument",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
}


@dataclass(frozen=True)
class Described:
    """A result Telegram answers together with a `description` (setWebhook, deleteWebhook)."""

    result: Any
    description: str


Handler = Callable[[SandboxState, dict[str, Any]], Any]


# --- shared checks -------------------------------------------------------------------------------


def _chat(state: SandboxState, chat_id: int | str) -> Chat:
    # Private chats are addressed by user id; Telegram refuses a user's @username as chat_id.
    chat = state.chats.get(chat_id) if isinstance(chat_id, int) else None
    if chat is None:
        raise bad_request("chat not found")
    return chat


def _writable_chat(state: SandboxState, chat_id: int | str) -> Chat:
    chat = _chat(state, chat_id)
    if chat.blocked:
        raise forbidden("bot was blocked by the user")
    return chat


def _reply_to(state: SandboxState, chat: Chat, p: dict[str, Any]) -> dict[str, Any] | None:
    parameters = p.get("reply_parameters")
    if parameters is None and "reply_to_message_id" in p:
        parameters = {
            "message_id": p["reply_to_message_id"],
            "allow_sending_without_reply": p.get("allow_sending_without_reply", False),
        }
    if parameters is None:
        return None
    target = chat if parameters.get("chat_id") is None else _chat(state, parameters["chat_id"])
    snapshot = state.reply_snapshot(target.id, parameters["message_id"])
    if snapshot is None and not parameters.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return snapshot


def _apply_markup(chat: Chat, message: dict[str, Any], markup: dict[str, Any] | None) -> None:
    """Inline keyboards stay on the message; the other kinds change what the user's app shows."""
    if markup is None:
        return
    kind = markup_kind(markup)
    if kind == "inline":
        inline = inline_markup_or_none(markup)
        if inline is not None:
            message["reply_markup"] = inline
    elif kind == "reply":
        chat.reply_keyboard = markup
        chat.force_reply = None
    elif kind == "remove":
        chat.reply_keyboard = None
    else:
        chat.force_reply = {"message_id": message["message_id"], **markup}


def _link_preview(p: dict[str, Any]) -> dict[str, Any] | None:
    options = p.get("link_preview_options")
    if options is None and p.get("disable_web_page_preview"):
        options = {"is_disabled": True}
    return options


def _send(state: SandboxState, chat: Chat, p: dict[str, Any], content: dict[str, Any]) -> Any:
    """Common tail of the send methods: reply, markup, protection, then store."""
    reply = _reply_to(state, chat, p)
    markup = p.get("reply_markup")
    if markup is not None:
        markup_kind(markup)  # refuse a bad keyboard before the message takes an id
    message = state.new_message(chat.id, state.bot_user())
    if reply is not None:
        message["reply_to_message"] = reply
    message.update(content)
    if p.get("protect_content"):
        message["has_protected_content"] = True
    _apply_markup(chat, message, markup)
    return state.store(message)


def _message_to_edit(state: SandboxState, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("inline_message_id") is not None:
        raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline-mode messages
    if p.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    if p.get("chat_id") is None:
        raise bad_request("chat_id is empty")
    chat = _chat(state, p["chat_id"])
    message = chat.messages.get(p["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if message["from"].get("id") != state.config.bot_id:
        raise bad_request("message can't be edited")
    return message


def _edit(message: dict[str, Any], changes: dict[str, Any]) -> Any:
    """Apply changes (None removes a field), or refuse an edit that changes nothing."""
    if all(message.get(key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = int(time.time())
    return copy.deepcopy(message)


def _entities_or_none(entities: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return entities or None


# --- methods -------------------------------------------------------------------------------------


def get_me(state: SandboxState, p: dict[str, Any]) -> Any:
    """The bot's User object with the bot-only flags."""
    return {
        **state.bot_user(),
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def get_updates(state: SandboxState, p: dict[str, Any]) -> Any:
    """Long polling: waits up to `timeout` seconds for updates (the caller holds state.lock)."""
    if state.webhook is not None:
        raise ApiError(409, WEBHOOK_CONFLICT)
    if "allowed_updates" in p:
        state.allowed_updates = list(p["allowed_updates"])
    offset = p.get("offset")
    if offset is not None and offset < 0:
        state.updates = state.updates[offset:]
    elif offset is not None:
        state.confirm_updates(offset)
    limit = min(max(p.get("limit", 100), 1), 100)
    deadline = time.monotonic() + max(p.get("timeout", 0), 0)
    state.poll_generation += 1
    generation = state.poll_generation
    state.changed.notify_all()  # an older long poll learns it was superseded
    while True:
        if generation != state.poll_generation:
            raise ApiError(409, POLL_CONFLICT)
        ready = [u for u in state.updates if state.allows(_kind(u))]
        remaining = deadline - time.monotonic()
        if ready or remaining <= 0 or state.closed or state.webhook is not None:
            return copy.deepcopy(ready[:limit])
        state.changed.wait(remaining)


def _kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def set_webhook(state: SandboxState, p: dict[str, Any]) -> Any:
    """Start webhook delivery to `url`; an empty url removes the webhook, as in Telegram."""
    url = p.get("url", "")
    if not url:
        return delete_webhook(state, p)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = p.get("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if p.get("drop_pending_updates"):
        state.updates.clear()
    if "allowed_updates" in p:
        state.allowed_updates = list(p["allowed_updates"])
    if state.webhook is None or state.webhook.url != url:
        state.webhook_last_error = None
    state.webhook = Webhook(url, secret, max_connections, p.get("ip_address"))
    state.changed.notify_all()
    return Described(True, "Webhook was set")


def delete_webhook(state: SandboxState, p: dict[str, Any]) -> Any:
    """Stop webhook delivery; getUpdates works again."""
    if p.get("drop_pending_updates"):
        state.updates.clear()
    was_set = state.webhook is not None
    state.webhook = None
    state.webhook_last_error = None
    state.changed.notify_all()
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


def get_webhook_info(state: SandboxState, p: dict[str, Any]) -> Any:
    """Webhook URL, pending update count and the last delivery error."""
    pending = sum(1 for u in state.updates if state.allows(_kind(u)))
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": pending,
    }
    webhook = state.webhook
    if webhook is not None:
        info["url"] = webhook.url
        info["max_connections"] = webhook.max_connections
        info["ip_address"] = webhook.ip_address or "127.0.0.1"
        if state.allowed_updates:
            info["allowed_updates"] = list(state.allowed_updates)
        if state.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = state.webhook_last_error
    return info


def _commands_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.get("language_code", "")


def set_my_commands(state: SandboxState, p: dict[str, Any]) -> Any:
    """Keep the command list for a scope and language."""
    commands = p["commands"]
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not BOT_COMMAND.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    listed = [{"command": c["command"], "description": c["description"]} for c in commands]
    state.commands[_commands_key(p)] = listed
    return True


def get_my_commands(state: SandboxState, p: dict[str, Any]) -> Any:
    """The command list of exactly this scope and language (empty if none was set)."""
    return copy.deepcopy(state.commands.get(_commands_key(p), []))


def delete_my_commands(state: SandboxState, p: dict[str, Any]) -> Any:
    """Forget the command list of this scope and language."""
    state.commands.pop(_commands_key(p), None)
    return True


def send_message(state: SandboxState, p: dict[str, Any]) -> Any:
    """A text message from the bot."""
    chat = _writable_chat(state, p["chat_id"])
    text, entities = format_text(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
    if not text:
        raise bad_request("message text is empty")
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    preview = _link_preview(p)
    if preview is not None:
        content["link_preview_options"] = preview
    return _send(state, chat, p, content)


def send_document(state: SandboxState, p: dict[str, Any]) -> Any:
    """A document from the bot: a new upload or a file_id sent before."""
    chat = _writable_chat(state, p["chat_id"])
    caption = _caption(p)
    document = p["document"]
    if isinstance(document, Upload):
        if not document.data:
            raise bad_request("file must be non-empty")
        if len(document.data) > state.config.max_upload_bytes:
            raise ApiError(413, "Request Entity Too Large")
        name = document.filename or "document"
        guessed = mimetypes.guess_type(name)[0]
        uploaded = document.content_type or "application/octet-stream"
        mime = guessed or uploaded
        stored = state.add_file(name, mime, document.data)
    elif document in state.files:
        stored = state.files[document]
    elif document.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the sandbox fetches nothing
    else:
        raise bad_request("wrong file identifier/HTTP URL specified")
    content: dict[str, Any] = {
        "document": {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
    }
    content.update({k: v for k, v in caption.items() if v is not None})
    return _send(state, chat, p, content)


def _caption(p: dict[str, Any]) -> dict[str, Any]:
    """caption and caption_entities after parsing; None values mean "no caption"."""
    if not p.get("caption"):
        return {"caption": None, "caption_entities": None}
    text, entities = format_text(
        p["caption"], p.get("parse_mode"), p.get("caption_entities"), caption=True
    )
    return {"caption": text or None, "caption_entities": _entities_or_none(entities)}


def edit_message_text(state: SandboxState, p: dict[str, Any]) -> Any:
    """New text (and keyboard: leaving reply_markup out removes it, as in Telegram)."""
    message = _message_to_edit(state, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    if not p.get("text"):
        raise bad_request("message text is empty")
    text, entities = format_text(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
    if not text:
        raise bad_request("message text is empty")
    changes = {
        "text": text,
        "entities": _entities_or_none(entities),
        "reply_markup": inline_markup_or_none(p.get("reply_markup")),
    }
    preview = _link_preview(p)
    if preview is not None:
        changes["link_preview_options"] = preview
    return _edit(message, changes)


def edit_message_caption(state: SandboxState, p: dict[str, Any]) -> Any:
    """New caption of a document message (and keyboard, removed when left out)."""
    message = _message_to_edit(state, p)
    if "document" not in message:
        raise bad_request("there is no caption in the message to edit")
    changes = {**_caption(p), "reply_markup": inline_markup_or_none(p.get("reply_markup"))}
    return _edit(message, changes)


def edit_message_reply_markup(state: SandboxState, p: dict[str, Any]) -> Any:
    """New inline keyboard; none removes it."""
    message = _message_to_edit(state, p)
    return _edit(message, {"reply_markup": inline_markup_or_none(p.get("reply_markup"))})


def delete_message(state: SandboxState, p: dict[str, Any]) -> Any:
    """Remove a message (the bot's or, in a private chat, the user's)."""
    chat = _chat(state, p["chat_id"])
    if chat.messages.pop(p["message_id"], None) is None:
        raise bad_request("message to delete not found")
    return True


def answer_callback_query(state: SandboxState, p: dict[str, Any]) -> Any:
    """Answer a button press once, in time; the answer is kept for the control API."""
    query = state.callback_queries.get(p["callback_query_id"])
    too_late = query is not None and (
        time.monotonic() - query.created > state.config.callback_answer_timeout
    )
    if query is None or query.answer is not None or too_late:
        raise bad_request(QUERY_TOO_OLD)
    if len(p.get("text", "")) > CALLBACK_ANSWER_MAX:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": p.get("text"),
        "show_alert": bool(p.get("show_alert", False)),
        "url": p.get("url"),
        "cache_time": p.get("cache_time", 0),
        "answered_at": time.time(),
    }
    return True


def send_chat_action(state: SandboxState, p: dict[str, Any]) -> Any:
    """Show "typing…" and the like; the sandbox remembers the last action per chat."""
    chat = _writable_chat(state, p["chat_id"])
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.last_action = p["action"]
    return True


def get_file(state: SandboxState, p: dict[str, Any]) -> Any:
    """A File with the path to download it from /file/bot<token>/<file_path>."""
    stored = state.files.get(p["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > state.config.max_download_bytes:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


SERVED_METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "sendMessage": send_message,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
    "getFile": get_file,
}
# Telegram matches method names without regard to case.
METHODS_BY_LOWER_NAME = {name.lower(): name for name in SERVED_METHODS}
