"""Bot API updates to core events, and the core's markups to Bot API reply markups."""

from __future__ import annotations

from telegram import (
    ForceReply as TgForceReply,
)
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)

from gateway.domain.incoming import Contact, Incoming, IncomingMessage, IncomingPress
from gateway.ports.messenger import ContactRequest, ForceReply, Markup, RemoveKeyboard

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | TgForceReply


def incoming(update: Update) -> Incoming | None:
    """The core event for a private message or a button press; None for anything else."""
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        if message is None or query.data is None:
            return None
        return IncomingPress(
            update_id=update.update_id,
            callback_id=query.id,
            chat_id=message.chat.id,
            user_id=query.from_user.id,
            message_id=message.message_id,
            data=query.data,
            user_name=account_name(query.from_user),
        )
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return None
    contact = None
    if message.contact is not None:
        contact = Contact(
            phone=message.contact.phone_number,
            user_id=message.contact.user_id,
            first_name=message.contact.first_name,
        )
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    return IncomingMessage(
        update_id=update.update_id,
        chat_id=message.chat.id,
        user_id=message.from_user.id,
        message_id=message.message_id,
        text=message.text or "",
        contact=contact,
        reply_to_message_id=reply_to,
        user_name=account_name(message.from_user),
    )


def account_name(user: User) -> str:
    """A Telegram account as 1C's audit names it: first and last name, else @username."""
    # python-telegram-bot answers None for an empty first name, though it types str.
    name = (user.full_name or "").strip()
    if name:
        return name
    return f"@{user.username}" if user.username else ""


def reply_markup(markup: Markup | None) -> ReplyMarkup | None:
    """The Bot API markup for the core's markup."""
    if markup is None:
        return None
    if isinstance(markup, ContactRequest):
        button = KeyboardButton(markup.button_text, request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if isinstance(markup, ForceReply):
        return TgForceReply(input_field_placeholder=markup.placeholder or None)
    if isinstance(markup, RemoveKeyboard):
        return ReplyKeyboardRemove()
    rows = [
        [InlineKeyboardButton(b.text, callback_data=b.callback_data) for b in row] for row in markup
    ]
    return InlineKeyboardMarkup(rows) if rows else None
