"""A Messenger that keeps to Telegram's flood limits, shared by every process through a
RateLimiter, and obeys 429 `retry_after` for everyone instead of hammering on."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from gateway.domain import MessageRef
from gateway.errors import RateLimited
from gateway.ports import Attachment, Keyboard, Markup, Messenger, RateLimiter, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRIES_AFTER_429: Final = 5


class ThrottledMessenger:
    """Wraps a Messenger: each send or edit first takes a slot (bot-wide and per chat)."""

    def __init__(
        self,
        inner: Messenger,
        limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.limiter = limiter
        self._sleep = sleep
        self.rate_limited = 0  # 429 answers seen (the goal is none)

    def _send(self, chat_id: int, call: Callable[[], T]) -> T:
        retries = 0
        while True:
            wait = self.limiter.acquire(chat_id)
            if wait > 0:
                self._sleep(wait)
                continue
            try:
                return call()
            except RateLimited as exc:
                self.rate_limited += 1
                retries += 1
                log.warning("Telegram flood control: retry after %g s", exc.retry_after)
                self.limiter.pause(exc.retry_after)
                if retries > MAX_RETRIES_AFTER_429:
                    raise
                self._sleep(exc.retry_after)

    def ping(self) -> None:
        """The inner messenger's ping (not throttled: it sends nothing to a chat)."""
        self.inner.ping()

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        """sendMessage within the limits."""
        return self._send(chat_id, lambda: self.inner.send_text(chat_id, html, markup, reply_to))

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        """sendDocument within the limits."""
        return self._send(
            chat_id, lambda: self.inner.send_document(chat_id, document, caption_html, markup)
        )

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """An edit within the limits (Telegram counts edits too)."""
        self._send(
            ref.chat_id,
            lambda: self.inner.edit(ref, html, is_caption=is_caption, keyboard=keyboard),
        )

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """Callback answers are not messages: never held back (a late answer is refused)."""
        self.inner.answer_callback(callback_id, text, alert)

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """setMyCommands, not throttled."""
        self.inner.set_commands(commands)
