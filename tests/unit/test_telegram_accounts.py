"""The name a Telegram account goes by in 1C's audit of decisions, from a Bot API update."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update, User

from adapters.telegram.convert import account_name, incoming
from gateway.domain.incoming import IncomingPress


def test_an_account_is_named_by_its_first_and_last_name() -> None:
    user = User(42, "Сергей", False, last_name="Волков", username="volkov")
    assert account_name(user) == "Сергей Волков"


def test_an_account_without_a_name_is_named_by_its_username() -> None:
    assert account_name(User(42, "", False, username="volkov")) == "@volkov"
    assert account_name(User(42, " ", False)) == ""


def test_a_press_carries_the_name_of_the_account_that_pressed() -> None:
    user = User(42, "Сергей", False, last_name="Волков")
    chat = Chat(42, Chat.PRIVATE)
    message = Message(7, datetime(2026, 12, 5, 10, 0, tzinfo=UTC), chat)
    query = CallbackQuery("cb-1", user, "chat-instance", message=message, data="signed")
    press = incoming(Update(1, callback_query=query))
    assert isinstance(press, IncomingPress)
    assert (press.user_id, press.user_name) == (42, "Сергей Волков")
