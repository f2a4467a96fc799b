"""The Bot API surface: tokens, method names, request encodings, getMe and commands."""

from __future__ import annotations

import json

import pytest
import requests
import telegram
from telegram.error import BadRequest, InvalidToken

from sandbox.telegram.config import DEFAULT_TOKEN


def test_get_me_describes_the_sandbox_bot(bot):
    me = bot.get_me()
    assert (me.id, me.is_bot, me.username) == (110201543, True, "tg1c_sandbox_bot")
    assert me.first_name == "tg1c sandbox"
    assert me.can_join_groups is False


def test_a_wrong_token_is_unauthorized(make_bot):
    stranger = make_bot("110201543:wrong")
    with pytest.raises(InvalidToken):
        stranger.get_me()


def test_a_wrong_token_gets_telegrams_401_body(sandbox):
    response = requests.get(f"{sandbox.url}/bot123:nope/getMe", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_an_unknown_method_is_not_found(sandbox):
    response = requests.post(f"{sandbox.api_url}{sandbox.token}/sendTelepathy", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_method_names_ignore_case_as_in_telegram(sandbox):
    response = requests.get(f"{sandbox.api_url}{sandbox.token}/GETME", timeout=5)
    assert response.json()["result"]["username"] == "tg1c_sandbox_bot"


def test_parameters_arrive_by_query_string_form_or_json(sandbox, user, control):
    url = f"{sandbox.api_url}{sandbox.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
    by_query = requests.get(url, params={"chat_id": user["id"], "text": "query"}, timeout=5)
    by_form = requests.post(
        url,
        data={"chat_id": str(user["id"]), "text": "form", "reply_markup": json.dumps(markup)},
        timeout=5,
    )
    by_json = requests.post(
        url, json={"chat_id": user["id"], "text": "json", "reply_markup": markup}, timeout=5
    )
    assert [r.json()["ok"] for r in (by_query, by_form, by_json)] == [True, True, True]
    texts = [m["text"] for m in control.messages(user["id"])]
    assert texts == ["query", "form", "json"]
    assert control.messages(user["id"])[1]["reply_markup"] == markup


def test_a_broken_json_body_is_a_bad_request(sandbox):
    response = requests.post(
        f"{sandbox.api_url}{sandbox.token}/getMe",
        data="{oops",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["description"].startswith("Bad Request: ")


def test_the_default_token_is_telegrams_documentation_sample():
    assert DEFAULT_TOKEN == "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_commands_are_kept_per_scope_and_language(bot):
    commands = [telegram.BotCommand("tasks", "Мои задачи"), telegram.BotCommand("help", "Помощь")]
    assert bot.set_my_commands(commands) is True
    admin_scope = telegram.BotCommandScopeChat(chat_id=42)
    bot.set_my_commands([telegram.BotCommand("status", "Состояние")], scope=admin_scope)
    assert [c.command for c in bot.get_my_commands()] == ["tasks", "help"]
    assert [c.command for c in bot.get_my_commands(scope=admin_scope)] == ["status"]
    assert bot.get_my_commands(language_code="en") == ()
    assert bot.delete_my_commands() is True
    assert bot.get_my_commands() == ()


def test_a_command_with_capitals_is_invalid(bot):
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        bot.set_my_commands([telegram.BotCommand("Tasks", "Мои задачи")])


def test_a_command_scope_of_an_unknown_type_is_refused(sandbox):
    response = requests.post(
        f"{sandbox.api_url}{sandbox.token}/getMyCommands",
        json={"scope": {"type": "everyone"}},
        timeout=5,
    )
    assert response.status_code == 400


def test_sending_a_chat_action_is_remembered(bot, user, control):
    assert bot.send_chat_action(user["id"], "upload_document") is True
    assert control.keyboard(user["id"])["last_action"] == "upload_document"


def test_an_unknown_chat_action_is_refused(bot, user):
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action in request"):
        bot.send_chat_action(user["id"], "dancing")
