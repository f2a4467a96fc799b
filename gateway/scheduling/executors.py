"""Where background jobs run: the Executor port, a pool of threads, and an inline executor.

Use cases never make threads: they hand jobs to an Executor they were given. The worker's
context holds thread pools (`ThreadExecutor`); unit tests give an `InlineExecutor`, which runs
each job at once on the caller's thread, so a test drives the flow without threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class Executor(Protocol):
    """Runs jobs while the caller goes on: `submit` → Future."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run `fn(*args, **kwargs)` now or when a thread is free; its Future."""
        ...

    def shutdown(self) -> None:
        """Let the jobs in hand finish and release the threads."""
        ...


class ThreadExecutor:
    """`threads` threads named `<name>_<n>`, started on first use.

    `shutdown()` stops them; a later `submit` starts them again. A context that is dropped
    without a shutdown loses its idle threads with it (ThreadPoolExecutor's threads end when
    their pool is garbage), so the many contexts tests make cost no threads they never use.
    """

    def __init__(self, threads: int, name: str) -> None:
        self._threads = threads
        self._name = name
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """See `Executor.submit`."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
            pool = self._pool
        return pool.submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        """See `Executor.shutdown`."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class InlineExecutor:
    """Runs each job at once on the caller's thread; the Future it returns is already done."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """See `Executor.submit`: the job has run (or raised) when this returns."""
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            # As on a pool thread: the error belongs to whoever asks the Future for its result.
            future.set_exception(exc)
        return future

    def shutdown(self) -> None:
        """Nothing to release."""
