"""Users acting through the control API, and the bot receiving it by getUpdates."""

from __future__ import annotations

import threading
import time

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton
from telegram import ReplyKeyboardMarkup as ReplyKeyboard
from telegram.error import BadRequest, Conflict

from sandbox.telegram.client import SandboxControlError

TOO_OLD = r"(?i)query is too old and response timeout expired or query ID is invalid"


def task_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Согласовать", callback_data="approve:1")],
            [InlineKeyboardButton("Открыть", url="https://example.org/task/1")],
        ]
    )


def test_a_users_text_reaches_get_updates(bot, user, control):
    control.send_text(user["id"], "привет")
    (update,) = bot.get_updates()
    assert update.message.text == "привет"
    assert update.message.from_user.id == user["id"]
    assert update.message.chat.id == user["id"]


def test_update_ids_increase_and_an_offset_confirms_them(bot, user, control):
    first = control.send_text(user["id"], "1")["update_id"]
    second = control.send_text(user["id"], "2")["update_id"]
    assert second > first
    assert [u.update_id for u in bot.get_updates()] == [first, second]
    assert [u.update_id for u in bot.get_updates(offset=second)] == [second]
    assert bot.get_updates(offset=second + 1) == ()
    assert bot.get_updates() == ()  # confirmed updates are gone for good


def test_get_updates_honours_limit(bot, user, control):
    for n in range(5):
        control.send_text(user["id"], str(n))
    assert [u.message.text for u in bot.get_updates(limit=2)] == ["0", "1"]


def test_a_long_poll_returns_as_soon_as_the_user_writes(bot, user, control):
    timer = threading.Timer(0.3, control.send_text, (user["id"], "наконец"))
    timer.start()
    started = time.monotonic()
    try:
        (update,) = bot.get_updates(timeout=10)
    finally:
        timer.join()
    assert update.message.text == "наконец"
    assert time.monotonic() - started < 5


def test_a_long_poll_without_updates_waits_its_timeout(bot, user):
    started = time.monotonic()
    assert bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


def test_allowed_updates_filters_kinds(bot, user, control):
    bot.get_updates(allowed_updates=["callback_query"])
    control.send_text(user["id"], "не доставят")
    assert bot.get_updates() == ()
    bot.get_updates(allowed_updates=[])
    control.send_text(user["id"], "доставят")
    assert [u.message.text for u in bot.get_updates()] == ["доставят"]


def test_a_command_carries_a_bot_command_entity(bot, user, control):
    control.start(user["id"], "invite-42")
    (update,) = bot.get_updates()
    assert update.message.text == "/start invite-42"
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)


def test_the_user_can_reply_to_a_bot_message(bot, user, control):
    question = bot.send_message(user["id"], "Причина?")
    control.send_text(user["id"], "нет денег", reply_to_message_id=question.message_id)
    (update,) = bot.get_updates()
    assert update.message.reply_to_message.message_id == question.message_id
    assert update.message.reply_to_message.text == "Причина?"


def test_sharing_the_own_contact_carries_the_users_id(bot, user, control):
    control.share_contact(user["id"])
    contact = bot.get_updates()[0].message.contact
    assert (contact.phone_number, contact.user_id) == ("79123456789", user["id"])
    assert contact.first_name == "Иван"


def test_a_contact_of_someone_else_carries_their_id(bot, user, control):
    control.share_contact(user["id"], "+7 912 000-00-00", "Пётр", contact_user_id=2002)
    contact = bot.get_updates()[0].message.contact
    assert (contact.phone_number, contact.user_id, contact.first_name) == (
        "+7 912 000-00-00",
        2002,
        "Пётр",
    )


def test_a_contact_from_the_address_book_has_no_user_id(bot, user, control):
    control.share_contact(user["id"], "89120000000", "Пётр")
    assert bot.get_updates()[0].message.contact.user_id is None


def test_pressing_request_contact_on_the_reply_keyboard_shares_the_own_contact(bot, user, control):
    share = ReplyKeyboard([[KeyboardButton("Поделиться номером телефона", request_contact=True)]])
    bot.send_message(user["id"], "Нужен номер", reply_markup=share)
    control.press(user["id"], "Поделиться номером телефона")
    assert bot.get_updates()[0].message.contact.user_id == user["id"]


def test_pressing_an_inline_button_makes_a_callback_query(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    pressed = control.press(user["id"], "Согласовать", message_id=sent.message_id)
    (update,) = bot.get_updates()
    query = update.callback_query
    assert query.id == pressed["callback_query"]["id"]
    assert (query.data, query.from_user.id) == ("approve:1", user["id"])
    assert query.message.message_id == sent.message_id
    assert query.chat_instance


def test_a_url_button_sends_nothing_to_the_bot(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    with pytest.raises(SandboxControlError) as refused:
        control.press(user["id"], "Открыть", message_id=sent.message_id)
    assert refused.value.status == 400


def test_pressing_a_missing_button_is_a_control_error(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    with pytest.raises(SandboxControlError) as refused:
        control.press(user["id"], "Отклонить", message_id=sent.message_id)
    assert refused.value.status == 404


def test_the_answer_to_a_press_is_recorded(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    query_id = control.press(user["id"], "Согласовать", message_id=sent.message_id)[
        "callback_query"
    ]["id"]
    assert control.callback_answer(query_id) is None
    assert bot.answer_callback_query(query_id, text="Уже согласовано", show_alert=True) is True
    answer = control.callback_answer(query_id)
    assert (answer["text"], answer["show_alert"]) == ("Уже согласовано", True)


def test_answering_a_callback_twice_is_too_old(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    update = control.press(user["id"], "Согласовать", message_id=sent.message_id)
    bot.answer_callback_query(update["callback_query"]["id"])
    with pytest.raises(BadRequest, match=TOO_OLD):
        bot.answer_callback_query(update["callback_query"]["id"])


def test_answering_a_callback_late_is_too_old(bot, user, control):
    sent = bot.send_message(user["id"], "Заявка 1", reply_markup=task_keyboard())
    update = control.press(user["id"], "Согласовать", message_id=sent.message_id)
    time.sleep(0.6)  # the fixture's timeout is 0.5 s (Telegram's is about 15 s)
    with pytest.raises(BadRequest, match=TOO_OLD):
        bot.answer_callback_query(update["callback_query"]["id"])


def test_answering_an_unknown_callback_is_too_old(bot, user):
    with pytest.raises(BadRequest, match=TOO_OLD):
        bot.answer_callback_query("123456")


def test_blocking_and_unblocking_send_my_chat_member_updates(bot, user, control):
    control.block(user["id"])
    control.unblock(user["id"])
    statuses = [u.my_chat_member.new_chat_member.status for u in bot.get_updates()]
    assert statuses == ["kicked", "member"]


def test_a_second_get_updates_terminates_the_first(bot, sandbox, user):
    import requests

    url = f"{sandbox.api_url}{sandbox.token}/getUpdates"
    answers: list[requests.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(requests.post(url, data={"timeout": 10}, timeout=15))
    )
    waiting.start()
    time.sleep(0.3)
    assert bot.get_updates() == ()
    waiting.join()
    assert answers[0].status_code == 409
    assert "terminated by other getUpdates request" in answers[0].json()["description"]


def test_get_updates_conflicts_with_a_webhook(bot, user):
    bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match=r"(?i)can't use getUpdates method while webhook is active"):
        bot.get_updates()
    bot.delete_webhook()
    assert bot.get_updates() == ()


def test_reset_empties_everything(bot, user, control):
    control.send_text(user["id"], "hi")
    control.reset()
    assert bot.get_updates() == ()
    with pytest.raises(SandboxControlError):
        control.messages(user["id"])


def test_the_call_log_lists_methods_parameters_and_outcomes(bot, user, control):
    bot.send_message(user["id"], "hello")
    with pytest.raises(BadRequest):
        bot.send_message(404, "nobody")
    calls = control.calls("sendMessage")
    assert [(c["status"], c["params"]["chat_id"]) for c in calls] == [(200, user["id"]), (400, 404)]
    assert calls[1]["error"] == "Bad Request: chat not found"
    assert calls[0]["time"] > 0


def test_users_are_listed_with_their_phones(control, user):
    response = control._call("GET", "/users")
    assert response["users"][0]["phone"] == "79123456789"
