"""Telegram's rules for reply_markup beyond field types: button kinds, callback_data size, URLs."""

from __future__ import annotations

from typing import Any

from sandbox.telegram.errors import bad_request

CALLBACK_DATA_MAX_BYTES = 64
# An inline button must do exactly one of these; a plain text button is refused.
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")


def markup_kind(markup: dict[str, Any]) -> str:
    """One of "inline", "reply", "remove", "force_reply", after checking Telegram's rules."""
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup)
        return "inline"
    if "keyboard" in markup:
        return "reply"
    if "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
        return "remove"
    if markup.get("force_reply") is not True:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return "force_reply"


def check_inline_keyboard(markup: dict[str, Any]) -> None:
    """Every inline button does exactly one thing, with valid callback data and URLs."""
    for row in markup["inline_keyboard"]:
        for button in row:
            actions = [name for name in INLINE_ACTIONS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    f'Field "{actions[1]}" can\'t be used together with "{actions[0]}"'
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not url.startswith(BUTTON_URL_SCHEMES):
                raise bad_request("BUTTON_URL_INVALID")


def inline_markup_or_none(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The inline keyboard a message carries; an empty keyboard is no keyboard, as in Telegram."""
    if markup is None:
        return None
    check_inline_keyboard(markup)
    return markup if any(markup["inline_keyboard"]) else None
