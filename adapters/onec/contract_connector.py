"""What the http and soap connectors share: both speak contract v1, only the carrier differs.

The base class holds the reading that does not depend on the carrier (the pending snapshot kept
from the event feed, the cheap ping, groups over OData); each connector supplies its pages and
its one-task read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Final

from adapters.onec.pending import PendingTasks
from adapters.onec.session import UPSTREAM, OneCSession
from adapters.onec.user_groups import read_group_members
from gateway.domain.phones import normalize_phone
from gateway.domain.tasks import OneCUser, Task
from gateway.errors import MalformedAnswer

PAGE_SIZE: Final = 200
PDF_MAGIC: Final = b"%PDF-"


def users_from(raws: Iterable[Any], where: str) -> list[OneCUser]:
    """1C users from contract v1's user objects; one lacking a field is a MalformedAnswer
    saying where it came from (`where`: "at <url>", "from <operation>")."""
    users = []
    for raw in raws:
        try:
            users.append(
                OneCUser(
                    id=str(raw["id"]),
                    name=str(raw["name"]),
                    phones=tuple(normalize_phone(str(p)) for p in raw.get("phones", [])),
                )
            )
        except (KeyError, TypeError) as exc:
            raise MalformedAnswer(UPSTREAM, f"a user {where} lacks {exc}") from exc
    return users


class ContractConnector(ABC):
    """The OneC port's reading over contract v1, whatever carries it."""

    prefers_print_form = True

    def __init__(self, session: OneCSession, infobase_url: str, page_size: int) -> None:
        self._session = session
        # The publication root (ONEC_BASE_URL), for what the contract has no route for.
        self._infobase = infobase_url
        self._page_size = page_size
        self._pending = PendingTasks()

    def ping(self) -> None:
        """One cheap authenticated read of the task list (soap loads its WSDL first if needed)."""
        self._list_page(None, limit=1)

    def pending_tasks(self) -> list[Task]:
        """Every pending task; after the first pass only tasks named in the event feed are read."""
        return self._pending.read(
            self._list_page, self._page_size, self._events_page, self.get_task
        )

    def group_members(self, name: str) -> frozenset[str]:
        """Members of a 1C users group, read over the publication's standard OData interface
        (contract v1 has no route or operation for groups)."""
        return read_group_members(self._session, self._infobase, name)

    @abstractmethod
    def get_task(self, task_id: str) -> Task:
        """One task in any state."""

    def _decided(self, task: Task) -> Task:
        """The task's state a decision answered with, taken into the pending snapshot."""
        self._pending.remember(task)
        return task

    @abstractmethod
    def _list_page(self, token: str | None, limit: int) -> tuple[list[Task], str | None]:
        """One page of pending tasks after `token`, and the next page's token or None."""

    @abstractmethod
    def _events_page(self, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        """Events after `cursor` (as dicts), and the new cursor or None."""
