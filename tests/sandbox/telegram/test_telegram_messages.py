"""Sending and editing messages: HTML, limits, keyboards, replies and Telegram's errors."""

from __future__ import annotations

import pytest
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden

NOT_MODIFIED = "(?i)message is not modified: specified new message content and reply markup"


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"d:{label}")] for label in labels]
    )


def test_html_becomes_visible_text_with_entities(bot, user):
    sent = bot.send_message(
        user["id"],
        '<b>Заявка</b> &lt;№ 5&gt; <a href="https://example.org/t">карточка</a> &#8470;',
        parse_mode="HTML",
    )
    assert sent.text == "Заявка <№ 5> карточка №"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [("bold", 0, 6), ("text_link", 13, 8)]
    assert sent.entities[1].url == "https://example.org/t"


def test_an_unsupported_tag_cannot_be_parsed(bot, user):
    with pytest.raises(BadRequest, match=r'(?i)can\'t parse entities: unsupported start tag "foo"'):
        bot.send_message(user["id"], "ok <foo>x</foo>", parse_mode="HTML")


def test_a_bare_less_than_cannot_be_parsed(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        bot.send_message(user["id"], "1 < 2", parse_mode="HTML")


def test_a_bare_ampersand_cannot_be_parsed(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        bot.send_message(user["id"], "ООО «Рога & Копыта»", parse_mode="HTML")


def test_without_parse_mode_markup_characters_are_plain_text(bot, user):
    assert bot.send_message(user["id"], "1 < 2 & <b>").text == "1 < 2 & <b>"


def test_text_longer_than_4096_visible_characters_is_too_long(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        bot.send_message(user["id"], "я" * 4097)


def test_the_text_limit_counts_visible_text_after_parsing(bot, user):
    tagged = "<b>" + "я" * 4096 + "</b>"
    assert len(bot.send_message(user["id"], tagged, parse_mode="HTML").text) == 4096


def test_the_text_limit_counts_utf16_code_units(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        bot.send_message(user["id"], "😀" * 2049)  # 2049 characters, 4098 UTF-16 units


def test_an_empty_text_after_parsing_is_empty(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        bot.send_message(user["id"], "<b> </b>", parse_mode="HTML")


def test_an_unknown_chat_is_not_found(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        bot.send_message(999_999, "hello")


def test_a_blocked_bot_is_forbidden_to_send(bot, user, control):
    control.block(user["id"])
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        bot.send_message(user["id"], "hello")
    control.unblock(user["id"])
    assert bot.send_message(user["id"], "hello").text == "hello"


def test_callback_data_longer_than_64_bytes_is_invalid(bot, user):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="ж" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        bot.send_message(user["id"], "task", reply_markup=markup)


def test_an_inline_button_that_does_nothing_is_refused(bot, user):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Да")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        bot.send_message(user["id"], "task", reply_markup=markup)


def test_a_message_keeps_its_inline_keyboard(bot, user, control):
    sent = bot.send_message(user["id"], "task", reply_markup=keyboard("Согласовать"))
    assert sent.reply_markup == keyboard("Согласовать")
    assert control.last_message(user["id"])["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Согласовать",
        "callback_data": "d:Согласовать",
    }


def test_a_reply_keyboard_with_request_contact_is_shown_then_removed(bot, user, control):
    share = ReplyKeyboardMarkup(
        [[KeyboardButton("Поделиться номером телефона", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    sent = bot.send_message(user["id"], "Нужен номер", reply_markup=share)
    assert sent.reply_markup is None  # only inline keyboards come back on a Message
    shown = control.keyboard(user["id"])["reply_keyboard"]
    assert shown["keyboard"][0][0]["request_contact"] is True
    bot.send_message(user["id"], "Спасибо", reply_markup=ReplyKeyboardRemove())
    assert control.keyboard(user["id"])["reply_keyboard"] is None


def test_force_reply_asks_the_user_to_answer_that_message(bot, user, control):
    sent = bot.send_message(
        user["id"], "Причина возврата?", reply_markup=ForceReply(input_field_placeholder="...")
    )
    assert control.keyboard(user["id"])["force_reply"]["message_id"] == sent.message_id


def test_a_reply_names_the_replied_message(bot, user, control):
    first = bot.send_message(user["id"], "first")
    reply = bot.send_message(
        user["id"], "second", reply_parameters=ReplyParameters(first.message_id)
    )
    assert reply.reply_to_message.message_id == first.message_id
    assert reply.reply_to_message.text == "first"


def test_replying_to_a_missing_message_fails_unless_allowed(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        bot.send_message(user["id"], "x", reply_parameters=ReplyParameters(77))
    allowed = ReplyParameters(77, allow_sending_without_reply=True)
    assert bot.send_message(user["id"], "x", reply_parameters=allowed).reply_to_message is None


def test_the_legacy_reply_to_message_id_still_works(bot, user):
    first = bot.send_message(user["id"], "first")
    reply = bot.send_message(user["id"], "2", api_kwargs={"reply_to_message_id": first.message_id})
    assert reply.reply_to_message.message_id == first.message_id


def test_link_preview_options_and_protect_content_are_kept(bot, user):
    sent = bot.send_message(
        user["id"],
        "см. https://example.org",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        protect_content=True,
    )
    assert sent.link_preview_options.is_disabled is True
    assert sent.has_protected_content is True
    assert [e.type for e in sent.entities] == ["url"]


def test_editing_text_applies_in_the_chat(bot, user, control):
    sent = bot.send_message(user["id"], "pending", reply_markup=keyboard("OK"))
    edited = bot.edit_message_text(
        "<b>Согласовано</b>", chat_id=user["id"], message_id=sent.message_id, parse_mode="HTML"
    )
    assert edited.text == "Согласовано"
    assert edited.edit_date is not None
    stored = control.last_message(user["id"])
    assert (stored["text"], stored["entities"][0]["type"]) == ("Согласовано", "bold")
    assert "reply_markup" not in stored  # leaving reply_markup out removes the keyboard


def test_an_edit_that_changes_nothing_is_not_modified(bot, user):
    sent = bot.send_message(user["id"], "same", reply_markup=keyboard("OK"))
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        bot.edit_message_text(
            "same", chat_id=user["id"], message_id=sent.message_id, reply_markup=keyboard("OK")
        )


def test_editing_a_missing_message_is_not_found(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        bot.edit_message_text("x", chat_id=user["id"], message_id=404)


def test_the_bot_cannot_edit_the_users_message(bot, user, control):
    update = control.send_text(user["id"], "мой текст")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        bot.edit_message_text("x", chat_id=user["id"], message_id=update["message"]["message_id"])


def test_removing_a_keyboard_then_removing_again_is_not_modified(bot, user, control):
    sent = bot.send_message(user["id"], "task", reply_markup=keyboard("OK"))
    bot.edit_message_reply_markup(chat_id=user["id"], message_id=sent.message_id)
    assert "reply_markup" not in control.last_message(user["id"])
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        bot.edit_message_reply_markup(chat_id=user["id"], message_id=sent.message_id)


def test_editing_a_caption_of_a_text_message_is_refused(bot, user):
    sent = bot.send_message(user["id"], "text")
    with pytest.raises(BadRequest, match=r"(?i)there is no caption in the message to edit"):
        bot.edit_message_caption(chat_id=user["id"], message_id=sent.message_id, caption="c")


def test_deleting_a_message_removes_it_from_the_chat(bot, user, control):
    sent = bot.send_message(user["id"], "gone soon")
    assert bot.delete_message(user["id"], sent.message_id) is True
    assert control.messages(user["id"]) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        bot.delete_message(user["id"], sent.message_id)


def test_a_chat_lists_both_sides_oldest_first(bot, user, control):
    control.send_text(user["id"], "/start")
    bot.send_message(user["id"], "Привет")
    control.send_text(user["id"], "спасибо")
    messages = control.messages(user["id"])
    assert [(m["from"]["is_bot"], m["text"]) for m in messages] == [
        (False, "/start"),
        (True, "Привет"),
        (False, "спасибо"),
    ]
    assert [m["message_id"] for m in messages] == [1, 2, 3]
    assert messages[1]["chat"] == {
        "id": user["id"],
        "type": "private",
        "first_name": "Иван",
        "last_name": "Петров",
        "username": "ipetrov",
    }
