"""Fixtures for the Telegram emulator's tests: a running sandbox, a user, and PTB's Bot on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import telegram

from sandbox.telegram.client import TelegramSandbox
from sandbox.telegram.harness import SandboxServer, running
from tests.serving import emulator_fixtures

USER_ID = 1001
# Short timings so the suite stays fast; the defaults are Telegram's.
FAST: dict[str, Any] = {
    "callback_answer_timeout": 0.5,
    "webhook_retry_base": 0.05,
    "webhook_retry_max": 0.2,
}


class SyncBot:
    """python-telegram-bot's async Bot, driven from sync tests on one event loop."""

    def __init__(self, sandbox: SandboxServer, token: str | None = None) -> None:
        self._runner = asyncio.Runner()
        self.bot = telegram.Bot(
            token or sandbox.token, base_url=sandbox.api_url, base_file_url=sandbox.file_url
        )

    def run(self, coroutine: Any) -> Any:
        """Run any coroutine on the bot's loop (e.g. `File.download_as_bytearray()`)."""
        return self._runner.run(coroutine)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.bot, name)
        return lambda *args, **kwargs: self._runner.run(method(*args, **kwargs))

    def close(self) -> None:
        """Close PTB's HTTP connections and the loop."""
        self._runner.run(self.bot.shutdown())
        self._runner.close()


# One emulator per test module (starting PTB's HTTP clients per test is the slow part).
shared_sandbox, sandbox = emulator_fixtures(
    "shared_sandbox",
    "sandbox",
    lambda: running(**FAST),
    scope="module",
    what="The Bot API emulator (flood control off, fast timeouts)",
)


@pytest.fixture
def control(sandbox: SandboxServer) -> TelegramSandbox:
    """The control API client of the running sandbox."""
    return sandbox.client


@pytest.fixture
def user(control: TelegramSandbox) -> dict[str, Any]:
    """A user with a private chat and a phone number."""
    return control.create_user(
        USER_ID, first_name="Иван", last_name="Петров", username="ipetrov", phone="79123456789"
    )


@pytest.fixture(scope="module")
def shared_bot(shared_sandbox: SandboxServer) -> Iterator[SyncBot]:
    """One PTB Bot per test module."""
    sync_bot = SyncBot(shared_sandbox)
    try:
        yield sync_bot
    finally:
        sync_bot.close()


@pytest.fixture
def bot(shared_bot: SyncBot, sandbox: SandboxServer) -> SyncBot:
    """PTB's Bot talking HTTP to the (freshly reset) sandbox."""
    return shared_bot


@pytest.fixture
def make_bot(sandbox: SandboxServer) -> Iterator[Callable[[str], SyncBot]]:
    """Bots with other tokens (closed after the test)."""
    made: list[SyncBot] = []

    def make(token: str) -> SyncBot:
        made.append(SyncBot(sandbox, token))
        return made[-1]

    yield make
    for sync_bot in made:
        sync_bot.close()
