"""Jobs kept in order per key and run side by side across keys, on a few threads.

The worker hands each Telegram update to the lane of its chat: whatever one chat waits for (its
own flood limit of about one message a second, a slow answer from 1C) holds back only that chat,
never the button presses of the others. Lanes with work take turns, so one busy chat cannot
starve the rest.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class Lanes:
    """`submit(key, job)` runs jobs of one key one at a time, in order; `stop()` ends it."""

    def __init__(self, threads: int, name: str = "lane") -> None:
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[Job]] = {}
        self._ready: deque[Hashable] = deque()  # keys with a job waiting and none running
        self._running: set[Hashable] = set()
        self._jobs = 0  # queued or running
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, key: Hashable, job: Job) -> None:
        """Queue `job` behind the other jobs of `key`."""
        with self._cond:
            queue = self._queues.setdefault(key, deque())
            queue.append(job)
            self._jobs += 1
            if len(queue) == 1 and key not in self._running:
                self._ready.append(key)
                self._cond.notify()

    def jobs(self) -> int:
        """Jobs queued or running."""
        with self._cond:
            return self._jobs

    def wait_below(self, limit: int, timeout: float) -> bool:
        """Wait up to `timeout` until fewer than `limit` jobs are queued or running."""
        with self._cond:
            return self._cond.wait_for(lambda: self._jobs < limit, timeout)

    def stop(self, timeout: float) -> int:
        """Let running jobs finish, drop the queued ones; how many were dropped."""
        with self._cond:
            self._closed = True
            dropped = sum(len(queue) for queue in self._queues.values())
            self._jobs -= dropped
            self._queues.clear()
            self._ready.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        return dropped

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or bool(self._ready))
                if self._closed:
                    return
                key = self._ready.popleft()
                job = self._queues[key].popleft()
                self._running.add(key)
            try:
                job()
            except Exception:
                # A job handles its own failures; this only keeps the lane thread alive.
                log.exception("a job in lane %s failed", key)
            finally:
                with self._cond:
                    self._running.discard(key)
                    self._jobs -= 1
                    queue = self._queues.get(key)
                    if queue:
                        self._ready.append(key)  # behind the other lanes: they take turns
                    else:
                        self._queues.pop(key, None)
                    self._cond.notify_all()
