"""The pending tasks as a connector last read them, kept current from 1C's event feed.

Shared by the http and soap connectors: the first pass lists every pending task, later passes
read only the tasks the feed names, so an unchanged pass costs one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.domain import Task
from gateway.errors import NotFound

Drain = Callable[[str | None], tuple[list[str], str | None]]


class PendingTasks:
    """A snapshot of pending tasks and the feed cursor it is current to."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] | None = None
        self._cursor: str | None = None

    def read(
        self,
        drain: Drain,
        list_all: Callable[[], Iterable[Task]],
        get_task: Callable[[str], Task],
    ) -> list[Task]:
        """Every pending task: listed on the first call, then updated from the feed."""
        if self._tasks is None:
            # Drain the feed first: events that happen while we list are replayed next pass.
            self._cursor = drain(None)[1]
            self._tasks = {task.id: task for task in list_all()}
        else:
            changed, self._cursor = drain(self._cursor)
            for task_id in changed:
                try:
                    self.remember(get_task(task_id))
                except NotFound:
                    self._tasks.pop(task_id, None)
        return list(self._tasks.values())

    def remember(self, task: Task) -> None:
        """Take in a task's new state (after a read or a decision), if a snapshot exists."""
        if self._tasks is None:
            return
        if task.is_pending:
            self._tasks[task.id] = task
        else:
            self._tasks.pop(task.id, None)
