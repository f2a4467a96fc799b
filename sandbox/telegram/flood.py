"""Flood control: token buckets per bot and per chat, answering how long to wait when empty."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity` (the burst allowed at once)."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if one is there now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token; call after `wait` answered 0."""
        self.tokens -= 1


class FloodControl:
    """The bot-wide and per-chat limits; a limit of 0 is off.

    The bot-wide bucket holds one second of messages; a chat's holds `chat_burst` (at least one
    second's worth), so a few quick messages to one chat pass, as they do in Telegram.
    """

    def __init__(
        self,
        global_per_second: float,
        chat_per_second: float,
        chat_burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._chat_burst = chat_burst
        self.set_limits(global_per_second, chat_per_second)

    def set_limits(self, global_per_second: float, chat_per_second: float) -> None:
        """New rates; buckets start full again."""
        with self._lock:
            self.global_per_second = max(0.0, float(global_per_second))
            self.chat_per_second = max(0.0, float(chat_per_second))
            now = self._clock()
            self._global = (
                TokenBucket(self.global_per_second, max(1.0, self.global_per_second), now)
                if self.global_per_second
                else None
            )
            self._chats: dict[int | str, TokenBucket] = {}

    def acquire(self, chat_id: int | str) -> int | None:
        """Count one message to `chat_id`; answer None if allowed, else seconds to wait (≥ 1)."""
        with self._lock:
            now = self._clock()
            buckets = []
            if self._global is not None:
                buckets.append(self._global)
            if self.chat_per_second:
                bucket = self._chats.get(chat_id)
                if bucket is None:
                    capacity = max(self._chat_burst, self.chat_per_second)
                    bucket = self._chats[chat_id] = TokenBucket(self.chat_per_second, capacity, now)
                buckets.append(bucket)
            wait = max((b.wait(now) for b in buckets), default=0.0)
            if wait > 0:
                # Nothing is spent on a refused request, so a client that waits gets through.
                return max(1, math.ceil(wait))
            for bucket in buckets:
                bucket.take()
            return None
