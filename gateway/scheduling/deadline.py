"""Calls that say so when they are slow: the call runs on a helper thread while the caller waits.

The outbox writes a decision to 1C and, only when that first write takes longer than a moment,
marks the card "passing to 1C". Both card edits (that mark, then the outcome) must come from
the caller's thread, in that order, so it is the call that moves to another thread, never the
reaction to its slowness.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Final, Protocol, TypeVar

from gateway.scheduling.executors import Executor, ThreadExecutor

T = TypeVar("T")

# One outbox loop per worker makes these calls; a few more keep tests and tools that share one
# context from waiting on each other's slow calls.
DEADLINE_THREADS: Final = 4


class Deadline(Protocol):
    """Runs a call and reacts, in the caller's thread, when it outlasts a deadline."""

    def run(self, call: Callable[[], T], after_seconds: float, when_slow: Callable[[], None]) -> T:
        """`call()`'s result (or its exception); `when_slow()` runs first, in this thread, while
        the call is still going, if it takes longer than `after_seconds`."""
        ...


class ThreadDeadline:
    """The real one: calls run on a few long-lived threads (DEADLINE_THREADS by default),
    started on first use."""

    def __init__(self, executor: Executor | None = None) -> None:
        if executor is None:
            executor = ThreadExecutor(DEADLINE_THREADS, "deadline")
        self._executor = executor

    def run(self, call: Callable[[], T], after_seconds: float, when_slow: Callable[[], None]) -> T:
        """See `Deadline.run`."""
        running = self._executor.submit(call)
        try:
            return running.result(timeout=after_seconds)
        except FutureTimeout:
            when_slow()
            return running.result()

    def shutdown(self) -> None:
        """Let the calls in hand finish and release the threads; a later call starts them
        again. The worker does not call it: its threads end with it, and waiting here for a
        write that hangs would hold up its stop."""
        self._executor.shutdown()


class InlineDeadline:
    """For unit tests: the call runs in the caller's thread, slow only when told so.

    A slow call gets `when_slow()` before it runs, which is the order the caller sees with the
    real one (the reaction comes before the result)."""

    def __init__(self, slow: bool = False) -> None:
        self.slow = slow
        self.slow_calls = 0

    def run(self, call: Callable[[], T], after_seconds: float, when_slow: Callable[[], None]) -> T:
        """See `Deadline.run`."""
        if self.slow:
            self.slow_calls += 1
            when_slow()
        return call()
