"""The emulator accepts and requires exactly the parameters api.json lists for each method."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.telegram.api_spec import API_JSON, LEGACY_FIELDS, OPTIONAL_IN_PRACTICE, ApiSpec
from sandbox.telegram.methods import SERVED_METHODS
from tests.conftest import unavailable

SHARED_API_JSON = Path(__file__).parents[3] / ".." / "shared" / "telegram-bot-api" / "api.json"
PUBLISHED = json.loads(API_JSON.read_text(encoding="utf-8"))
# A value of the wrong type for each kind of parameter (sent in a JSON body).
WRONG = {"Integer": "abc", "Float": "abc", "Boolean": "maybe", "String": {"not": "a string"}}


def wrong_value(types: list[str]) -> Any:
    if len(types) == 1 and types[0] in WRONG:
        return WRONG[types[0]]
    # Strings and integers take numbers, so an object is wrong for them; objects and arrays
    # take neither numbers nor arbitrary strings.
    return {"not": "this"} if {"String", "Integer"} & set(types) else 5


def published_fields(method: str) -> dict[str, tuple[list[str], bool]]:
    return {
        f["name"]: (f["types"], f["required"])
        for f in PUBLISHED["methods"][method].get("fields", [])
    }


def test_the_shipped_api_json_is_the_shared_one():
    if not SHARED_API_JSON.exists():
        unavailable("no ../shared beside this checkout to compare the shipped api.json with")
    assert json.loads(SHARED_API_JSON.read_text(encoding="utf-8")) == PUBLISHED


@pytest.mark.parametrize("method", sorted(SERVED_METHODS))
def test_each_method_accepts_and_requires_what_api_json_lists(method):
    spec = ApiSpec.load()
    accepted = spec.accepted_fields(method)
    legacy = set(LEGACY_FIELDS.get(method, {}))
    published = published_fields(method)
    assert set(accepted) - legacy == set(published)
    assert not legacy & set(published), "a legacy parameter is documented again: drop it"
    for name, (types, required) in published.items():
        assert list(accepted[name].types) == types
        assert accepted[name].required == required


@pytest.fixture
def valid_requests(sandbox, user, control) -> dict[str, dict[str, Any]]:
    """A request that succeeds for each served method, built on a little real chat history."""
    api = f"{sandbox.api_url}{sandbox.token}"

    def call(method: str, **params: Any) -> Any:
        return requests.post(f"{api}/{method}", json=params, timeout=5).json()["result"]

    keyboard = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    text = call("sendMessage", chat_id=user["id"], text="t", reply_markup=keyboard)
    document = sandbox.state.add_file("a.pdf", "application/pdf", b"%PDF")
    doc = call("sendDocument", chat_id=user["id"], document=document.file_id, caption="c")
    query = control.press(user["id"], "OK", message_id=text["message_id"])["callback_query"]
    chat = user["id"]
    return {
        # First: the sandbox fixture lets a press wait only half a second for its answer.
        "answerCallbackQuery": {"callback_query_id": query["id"]},
        "getMe": {},
        "getUpdates": {"timeout": 0},
        "setWebhook": {"url": ""},
        "deleteWebhook": {},
        "getWebhookInfo": {},
        "setMyCommands": {"commands": [{"command": "help", "description": "Помощь"}]},
        "getMyCommands": {},
        "deleteMyCommands": {},
        "sendMessage": {"chat_id": chat, "text": "x"},
        "sendDocument": {"chat_id": chat, "document": document.file_id},
        "editMessageText": {"chat_id": chat, "message_id": text["message_id"], "text": "new"},
        "editMessageCaption": {"chat_id": chat, "message_id": doc["message_id"], "caption": "n"},
        "editMessageReplyMarkup": {
            "chat_id": chat,
            "message_id": text["message_id"],
            "reply_markup": {"inline_keyboard": [[{"text": "B", "callback_data": "b"}]]},
        },
        "deleteMessage": {"chat_id": chat, "message_id": doc["message_id"]},
        "sendChatAction": {"chat_id": chat, "action": "typing"},
        "getFile": {"file_id": document.file_id},
    }


def test_every_method_rejects_a_missing_required_or_mistyped_parameter(sandbox, valid_requests):
    api = f"{sandbox.api_url}{sandbox.token}"
    assert set(valid_requests) == set(SERVED_METHODS)
    for method, valid in valid_requests.items():
        answer = requests.post(f"{api}/{method}", json=valid, timeout=5).json()
        assert answer["ok"] is True, (method, answer)
        for name, (types, required) in published_fields(method).items():
            mistyped = requests.post(
                f"{api}/{method}", json={**valid, name: wrong_value(types)}, timeout=5
            )
            assert mistyped.status_code == 400, (method, name, mistyped.text)
            assert name in mistyped.json()["description"], (method, name, mistyped.text)
            if required and (method, name) not in OPTIONAL_IN_PRACTICE:
                without = {k: v for k, v in valid.items() if k != name}
                missing = requests.post(f"{api}/{method}", json=without, timeout=5)
                assert missing.status_code == 400, (method, name, missing.text)


def test_unknown_parameters_are_ignored_and_logged_as_telegram_ignores_them(bot, user, control):
    bot.send_message(user["id"], "x", api_kwargs={"colour": "red"})
    (call,) = control.calls("sendMessage")
    assert call["ignored"] == ["colour"]
    assert "colour" not in call["params"]


def test_nested_objects_are_checked_against_their_types(sandbox, user):
    response = requests.post(
        f"{sandbox.api_url}{sandbox.token}/sendMessage",
        json={
            "chat_id": user["id"],
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"callback_data": "no text"}]]},
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert '"text"' in response.json()["description"]


def test_json_objects_in_a_form_must_parse(sandbox, user):
    response = requests.post(
        f"{sandbox.api_url}{sandbox.token}/sendMessage",
        data={"chat_id": user["id"], "text": "x", "reply_markup": "{not json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "can't parse reply_markup JSON object" in response.json()["description"]


def test_an_empty_webhook_url_removes_the_webhook_as_in_telegram(sandbox):
    answer = requests.post(
        f"{sandbox.api_url}{sandbox.token}/setWebhook", data={"url": ""}, timeout=5
    ).json()
    assert answer == {"ok": True, "result": True, "description": "Webhook is already deleted"}
