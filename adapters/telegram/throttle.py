"""A Messenger that keeps to Telegram's flood limits, shared by every process through a
RateLimiter (told when each send starts and when its answer came), and obeys 429 `retry_after`
for everyone instead of hammering on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from gateway.domain.records import MessageRef
from gateway.errors import RateLimited
from gateway.ports.messenger import Attachment, Keyboard, Markup, Messenger, RateLimiter, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRIES_AFTER_429: Final = 5
# Bot-wide waits last about 1/30 s; a longer one is a chat's own limit or a pause after a 429.
SHORT_WAIT_SECONDS: Final = 0.1


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
        self._turn = threading.Lock()
        self.rate_limited = 0  # 429 answers seen (the goal is none)

    def _send(self, chat_id: int, call: Callable[[], T]) -> T:
        retries = 0
        while True:
            wait = self._take_turn(chat_id)
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
            finally:
                # Telegram counted the send somewhere between its start and now.
                self.limiter.ended()

    def _take_turn(self, chat_id: int) -> float:
        """A slot from the limiter (0), or how long to wait for one when that is long.

        Senders of this process ask one at a time and sleep out short waits in turn; the others
        wait on the lock, idle. Left to themselves they would all wake for every token and ask
        Redis together, spending the CPU the sends need. A long wait (a chat's own limit, a
        pause) is slept outside the turn, so it holds back no other chat.
        """
        with self._turn:
            while True:
                wait = self.limiter.acquire(chat_id)
                if wait <= 0 or wait > SHORT_WAIT_SECONDS:
                    return wait
                self._sleep(wait)

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
