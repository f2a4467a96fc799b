"""A running worker against both emulators and real Redis, and an approver to script."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.bootstrap import Gateway, build
from gateway.entrypoints.worker import Worker
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer

WAIT_SECONDS = 15.0


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@dataclass
class Approver:
    """A Telegram user who is also a 1C user, driven through the emulators' control APIs."""

    telegram: SandboxServer
    onec: RunningSandbox
    user_id: int
    onec_user: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.onec_user["name"])

    def messages(self) -> list[dict[str, Any]]:
        return self.telegram.client.messages(self.user_id)

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m["from"]["is_bot"]]

    def text_of(self, message: dict[str, Any]) -> str:
        return str(message.get("text") or message.get("caption") or "")

    def wait_message(self, needle: str, what: str = "") -> dict[str, Any]:
        """The newest bot message containing `needle`, waiting for it."""

        def find() -> dict[str, Any] | None:
            for message in reversed(self.bot_messages()):
                if needle in self.text_of(message):
                    return message
            return None

        return dict(wait_for(find, what or f"a message with {needle!r}"))

    def card(self, task_id_fragment: str = "") -> dict[str, Any]:
        """The newest card (a message with decision buttons)."""

        def find() -> dict[str, Any] | None:
            for message in reversed(self.bot_messages()):
                has_buttons = message.get("reply_markup", {}).get("inline_keyboard")
                if has_buttons and task_id_fragment in self.text_of(message):
                    return message
            return None

        return dict(wait_for(find, "a task card with buttons"))

    def message(self, message_id: int) -> dict[str, Any]:
        return next(m for m in self.messages() if m["message_id"] == message_id)

    def buttons(self, message: dict[str, Any]) -> list[str]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]

    def say(self, text: str, reply_to: int | None = None) -> None:
        self.telegram.client.send_text(self.user_id, text, reply_to_message_id=reply_to)

    def press(self, message_id: int, button: str, data: str | None = None) -> dict[str, Any]:
        return self.telegram.client.press(self.user_id, button, message_id=message_id, data=data)

    def answer_to(self, update: dict[str, Any]) -> dict[str, Any]:
        """The bot's answer to a button press (waits for it)."""
        query_id = update["callback_query"]["id"]

        def find() -> dict[str, Any] | None:
            return self.telegram.client.callback_answer(query_id)

        return dict(wait_for(find, "the callback answer"))

    def connect(self) -> None:
        """Share the own contact and wait for «Подключение установлено»."""
        self.telegram.client.share_contact(self.user_id)
        self.wait_message("Подключение установлено", "the link confirmation")


@pytest.fixture(params=["http", "odata"])
def connector(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway_settings(
    request: pytest.FixtureRequest, onec_env: dict[str, str], connector: str
) -> Settings:
    """Settings for the worker; `@pytest.mark.settings(NAME=value)` changes some."""
    marker = request.node.get_closest_marker("settings")
    extra = dict(marker.kwargs) if marker else {}
    return Settings.from_env(
        {**onec_env, "ONEC_CONNECTOR": connector, "ONEC_POLL_INTERVAL": "0.3", **extra}
    )


@pytest.fixture
def gateway(gateway_settings: Settings) -> Iterator[Gateway]:
    instance = build(gateway_settings)
    yield instance
    instance.close()


@pytest.fixture
def worker(gateway: Gateway) -> Iterator[Worker]:
    running = Worker(gateway, long_poll_seconds=1)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def make_approver(telegram: SandboxServer, onec: RunningSandbox) -> Callable[..., Approver]:
    """An approver for a seeded 1C user (by surname), with a Telegram account and that phone."""
    counter = iter(range(5001, 6000))

    def make(surname: str, phone: str | None = None) -> Approver:
        user = onec.client.user(surname)
        user_id = next(counter)
        telegram.client.create_user(
            user_id,
            first_name=user["name"].split()[1] if " " in user["name"] else user["name"],
            last_name=user["name"].split()[0],
            phone=phone or (user["phones"][0] if user["phones"] else "+70000000000"),
        )
        return Approver(telegram, onec, user_id, user)

    return make
