"""The pending tasks as a connector last read them, kept current from 1C's event feed.

Shared by the http and soap connectors: the first pass lists every pending task, later passes
read only the tasks the feed names, so an unchanged pass costs one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

from gateway.domain.tasks import Task
from gateway.errors import AlreadyCompleted, NotFound, NotPerformer

EVENTS_PAGE_SIZE: Final = 1000

# (page token, limit) → (tasks, next token or None)
ListPage = Callable[[str | None, int], tuple[list[Task], str | None]]
# (cursor, limit) → (events as dicts, new cursor or None)
EventsPage = Callable[[str | None, int], tuple[list[Any], str | None]]


def all_tasks(list_page: ListPage, page_size: int) -> Iterator[Task]:
    """Every pending task, page after page until 1C gives no next token."""
    token: str | None = None
    while True:
        tasks, token = list_page(token, page_size)
        yield from tasks
        if not token:
            return


def drain(events_page: EventsPage, cursor: str | None) -> tuple[list[str], str | None]:
    """Task ids named by events after `cursor` (each once, in order) and the new cursor."""
    changed: dict[str, None] = {}
    while True:
        events, new_cursor = events_page(cursor, EVENTS_PAGE_SIZE)
        for event in events:
            if isinstance(event, dict) and event.get("task_id"):
                changed[str(event["task_id"])] = None
        cursor = new_cursor if new_cursor is not None else cursor
        if len(events) < EVENTS_PAGE_SIZE:
            return list(changed), cursor


class PendingTasks:
    """A snapshot of pending tasks and the feed cursor it is current to."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] | None = None
        self._cursor: str | None = None

    def read(
        self,
        list_page: ListPage,
        page_size: int,
        events_page: EventsPage,
        get_task: Callable[[str], Task],
    ) -> list[Task]:
        """Every pending task: listed on the first call, then updated from the feed."""
        if self._tasks is None:
            # Drain the feed first: events that happen while we list are replayed next pass.
            self._cursor = drain(events_page, None)[1]
            self._tasks = {task.id: task for task in all_tasks(list_page, page_size)}
        else:
            changed, self._cursor = drain(events_page, self._cursor)
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


def decided_elsewhere(refusal: NotPerformer, get_task: Callable[[str], Task], task_id: str) -> None:
    """Raise AlreadyCompleted (with the task) when a 403 came because the task is done.

    Once another candidate of a role task decided, 1C's service answers the others 403 (they are
    no longer performers: design 5.4 checks 403 before 409); the flow needs to know it is done.
    """
    task = get_task(task_id)
    if not task.is_pending:
        raise AlreadyCompleted(refusal.upstream, f"the task is {task.state.value} in 1C", task)
