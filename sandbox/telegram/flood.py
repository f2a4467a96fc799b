"""Flood control, per bot and per chat, in one of two ways of counting (Telegram publishes neither):

- `bucket` (the default): token buckets, so a burst may pass at once and the rate refills them;
- `strict`: at most N messages in ANY sliding window, the strictest plausible reading of "about
  30 messages a second" and "one a second per chat": a rate r ≥ 1 allows floor(r) in any second,
  a rate below 1 one message in any 1/r seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol

BUCKET: Final = "bucket"
STRICT: Final = "strict"
MODES: Final = (BUCKET, STRICT)


class Limit(Protocol):
    """One counter (the bot's or a chat's)."""

    def wait(self, now: float) -> float:
        """Seconds until one more message may pass (0 if it may pass now)."""
        ...

    def take(self, now: float) -> None:
        """Count one message; call after `wait` answered 0."""
        ...


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

    def take(self, now: float) -> None:
        """Spend one token."""
        self.tokens -= 1


class SlidingWindow:
    """At most `count` messages in any `seconds` (the times of the last ones are kept)."""

    def __init__(self, rate: float) -> None:
        self.seconds = max(1.0, 1 / rate)
        self.count = max(1, math.floor(rate * self.seconds))
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until the oldest message of a full window leaves it."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.count:
            return 0.0
        return self.times[0] + self.seconds - now

    def take(self, now: float) -> None:
        """Remember this message's time."""
        self.times.append(now)


class FloodControl:
    """The bot-wide and per-chat limits; a limit of 0 is off.

    In `bucket` mode the bot-wide bucket holds one second of messages; a chat's holds
    `chat_burst` (at least one second's worth), so a few quick messages to one chat pass, as
    they do in Telegram. In `strict` mode nothing passes over the count of any window.
    """

    def __init__(
        self,
        global_per_second: float,
        chat_per_second: float,
        chat_burst: int,
        clock: Callable[[], float] = time.monotonic,
        mode: str = BUCKET,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._chat_burst = chat_burst
        self.set_limits(global_per_second, chat_per_second, mode)

    def set_limits(
        self, global_per_second: float, chat_per_second: float, mode: str = BUCKET
    ) -> None:
        """New rates and way of counting; counting starts afresh."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        with self._lock:
            self.mode = mode
            self.global_per_second = max(0.0, float(global_per_second))
            self.chat_per_second = max(0.0, float(chat_per_second))
            self._global = self._limit(self.global_per_second, self.global_per_second)
            self._chats: dict[int | str, Limit] = {}

    def _limit(self, rate: float, capacity: float) -> Limit | None:
        if not rate:
            return None
        if self.mode == STRICT:
            return SlidingWindow(rate)
        return TokenBucket(rate, max(1.0, capacity), self._clock())

    def acquire(self, chat_id: int | str) -> int | None:
        """Count one message to `chat_id`; answer None if allowed, else seconds to wait (≥ 1)."""
        with self._lock:
            now = self._clock()
            limits = []
            if self._global is not None:
                limits.append(self._global)
            if self.chat_per_second:
                limit = self._chats.get(chat_id)
                if limit is None:
                    capacity = max(self._chat_burst, self.chat_per_second)
                    limit = self._limit(self.chat_per_second, capacity)
                    assert limit is not None
                    self._chats[chat_id] = limit
                limits.append(limit)
            wait = max((limit.wait(now) for limit in limits), default=0.0)
            if wait > 0:
                # Nothing is counted on a refused request, so a client that waits gets through.
                return max(1, math.ceil(wait))
            for limit in limits:
                limit.take(now)
            return None
