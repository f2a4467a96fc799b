"""A running worker against both emulators and real Redis, an approver to script, and the
steps most scenarios start with (an approval started in 1C, its card in the approver's chat)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest

from bench.harness import worker_running
from bench.stats import wait_until
from gateway.bootstrap import Gateway, build
from gateway.entrypoints.worker import Worker
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer

WAIT_SECONDS = 15.0
INITIATOR = "Иванов"
AMOUNT = "98765.40"
PASSING_ON = "передаётся в 1С"  # the card while its decision waits for 1C


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    result = wait_until(check, timeout, interval)
    if result is None:
        raise AssertionError(f"timed out waiting for {what}")
    return result


def start_approval(
    onec: RunningSandbox,
    route: Sequence[str],
    purpose: str,
    *,
    amount: str = AMOUNT,
    fields: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An approval started in 1C by Иванов, its stages addressed to `route` (surnames), the
    document's purpose `purpose`; answers the emulator's ids (`task_id`, `document_id`)."""
    return onec.client.create_approval(
        route=[onec.client.user(surname)["id"] for surname in route],
        initiator=onec.client.user(INITIATOR)["id"],
        fields={"СуммаДокумента": amount, "НазначениеПлатежа": purpose, **(fields or {})},
    )


def task_state(onec: RunningSandbox, task_id: str) -> str:
    """Where the task stands in 1C: `pending`, `completed`, `cancelled`."""
    return str(onec.client.task(task_id)["state"])


def decided_in_1c(onec: RunningSandbox, created: dict[str, Any]) -> list[str]:
    """Decisions 1C recorded on the approval's tasks."""
    approval = onec.client.approvals(created["document_id"])[0]
    return [str(t["decision"]) for t in approval["tasks"] if t["decision"]]


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

    def shows(self, card: dict[str, Any], needle: str) -> bool:
        """True when `card`, as it stands now (edits included), contains `needle`."""
        return needle in self.text_of(self.message(card["message_id"]))

    def wait_shows(
        self, card: dict[str, Any], needle: str, what: str, timeout: float = WAIT_SECONDS
    ) -> None:
        """Wait until `card` is edited to contain `needle`; fail naming `what`."""
        wait_for(lambda: self.shows(card, needle), what, timeout)

    def wait_passing_on(self, card: dict[str, Any]) -> None:
        """Wait until `card` says its decision is being passed on to 1C."""
        self.wait_shows(card, PASSING_ON, "the card to say the decision is being passed on")

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
    with worker_running(gateway) as running:
        yield running


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


def approve_with_1c_down(onec: RunningSandbox, approver: Approver, card: dict[str, Any]) -> None:
    """1C down, the approver approves on `card`: he is told it is taken, and the card says it
    is being passed on to 1C."""
    onec.client.set_fault("down")
    update = approver.press(card["message_id"], "Согласовать")
    assert "Принято" in approver.answer_to(update)["text"]
    approver.wait_passing_on(card)


class OpenCard(NamedTuple):
    """An approval started in 1C, its first approver connected, and the card he got."""

    created: dict[str, Any]
    approver: Approver
    card: dict[str, Any]


@pytest.fixture
def open_card(
    make_approver: Callable[..., Approver], onec: RunningSandbox
) -> Callable[..., OpenCard]:
    """The step most decision scenarios start with: `start_approval(route, purpose, ...)`, the
    route's first approver connected, his card found by `find` (the purpose unless given)."""

    def open_(
        route: Sequence[str], purpose: str, *, find: str | None = None, **approval: Any
    ) -> OpenCard:
        created = start_approval(onec, route, purpose, **approval)
        approver = make_approver(route[0])
        approver.connect()
        return OpenCard(created, approver, approver.card(purpose if find is None else find))

    return open_
