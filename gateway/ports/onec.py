"""The 1C port: tasks, users and documents read, decisions written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Protocol

from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import OneCUser, Task
from gateway.ports.pingable import Pingable


class Connector(StrEnum):
    """The 1C connectors (ONEC_CONNECTOR, design 5.1); each adapter's `name`."""

    ODATA = "odata"
    HTTP = "http"
    SOAP = "soap"


class TaskSource(Pingable, Protocol):
    """1C as the source of approval tasks and of the users who decide them."""

    def pending_tasks(self) -> Iterable[Task]:
        """Every pending approval task, in a stable order."""
        ...

    def get_task(self, task_id: str) -> Task:
        """One task in whatever state it is; NotFound if 1C has no such task."""
        ...

    def find_users_by_phone(self, phone: str) -> Sequence[OneCUser]:
        """Valid 1C users with this international number ("+" and digits), each with its card
        phones read by `gateway.domain.phones.normalize_phone`."""
        ...

    def print_form(self, task: Task) -> bytes | None:
        """1C's own print form of the task's subject as PDF, or None where 1C has none."""
        ...

    def group_members(self, name: str) -> frozenset[str]:
        """1C user ids in the users group `name` (`Catalog_ГруппыПользователей`, its `Состав`);
        NotFound if 1C has no such group."""
        ...


class DecisionSink(Protocol):
    """1C as the place decisions are written to."""

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Apply the decision once (retries with the same idempotency key change nothing).

        Returns the task's new state; AlreadyCompleted if it was done before, NotPerformer if
        the user may not decide it.
        """
        ...


class OneC(TaskSource, DecisionSink, Protocol):
    """A 1C connector: OData, the HTTP service or the SOAP web service."""
