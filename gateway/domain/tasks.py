"""Domain types: approval tasks as 1C describes them, decisions, user links, message references."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Decision(enum.StrEnum):
    """What an approver can do with a task; values are the wire names of contract v1."""

    APPROVE = "approve"
    RETURN_PREVIOUS = "return_previous"
    RETURN_INITIATOR = "return_initiator"

    @property
    def needs_reason(self) -> bool:
        """Returns are sent back with a reason the approver must give; approval needs none."""
        return self is not Decision.APPROVE


class TaskState(enum.StrEnum):
    """Where a task stands in 1C."""

    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskKind(enum.StrEnum):
    """Whether a task is a step of an approval process (decided from Telegram) or anything else
    (a БСП `Задание`, a "read and acknowledge" task: shown, never executed from Telegram)."""

    APPROVAL = "approval"
    TASK = "task"


class OtherTasks(enum.StrEnum):
    """What approvers get for tasks that are not approvals (ONEC_OTHER_TASKS)."""

    NOTIFY = "notify"  # a card with the document and no decision buttons
    OFF = "off"


class Importance(enum.StrEnum):
    """1C's `Важность` of a task."""

    NORMAL = "normal"
    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Person:
    """A 1C user as a task refers to one: the catalog reference and its presentation."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Stage:
    """The approval route stage a task belongs to: "number of count" (1-based)."""

    name: str
    number: int
    count: int


@dataclass(frozen=True, slots=True)
class Field:
    """One named value of the document under approval, already a presentation string."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Table:
    """A tabular section of the document: column titles and rows of presentation strings."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Subject:
    """The document under approval (1C's `Предмет`)."""

    type: str
    id: str
    presentation: str
    fields: tuple[Field, ...] = ()
    tables: tuple[Table, ...] = ()
    version: str = ""
    """1C's `DataVersion` of the document; empty where the source does not tell it."""
    denied: str | None = None
    """None, or why the approver may not read the document in 1C (its access rights): then
    `fields` and `tables` are empty, and no PDF of it is fetched or rendered."""


@dataclass(frozen=True, slots=True)
class Result:
    """A decision already recorded on a task in 1C."""

    decision: Decision
    comment: str
    user_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Task:
    """A task of a 1C business process (`Задача исполнителя`), shaped like contract v1's `Task`.

    A task is addressed to a person (`performer`) or to a role (`performer` is None, `role` is
    set); `candidates` are the 1C users who may decide now (design 5.5). A source that does not
    tell candidates leaves them empty, and the performer alone may decide.
    """

    id: str
    version: str
    number: str
    created_at: datetime
    due_at: datetime | None
    importance: Importance
    state: TaskState
    title: str
    performer: Person | None
    initiator: Person
    stage: Stage
    subject: Subject
    allowed_decisions: tuple[Decision, ...]
    result: Result | None = None
    kind: TaskKind = TaskKind.APPROVAL
    role: Person | None = None
    candidates: tuple[Person, ...] = ()

    @property
    def deciders(self) -> tuple[Person, ...]:
        """Who may decide the task now: its candidates, else its performer."""
        if self.candidates:
            return self.candidates
        return (self.performer,) if self.performer is not None else ()

    def may_decide(self, onec_user_id: str) -> bool:
        """True if this 1C user is among the task's deciders."""
        return any(person.id == onec_user_id for person in self.deciders)

    @property
    def addressee(self) -> str:
        """Who the task is addressed to, as 1C shows it: the performer's name, else the role's."""
        if self.performer is not None:
            return self.performer.name
        return self.role.name if self.role is not None else ""

    def name_of(self, onec_user_id: str, default: str | None = None) -> str:
        """The name the task gives a 1C user (performer or candidate), else `default` (the id
        itself when no default is given)."""
        people = (self.performer, *self.candidates) if self.performer else self.candidates
        fallback = onec_user_id if default is None else default
        return next((p.name for p in people if p.id == onec_user_id), fallback)

    @property
    def is_approval(self) -> bool:
        """True for a step of an approval process, which Telegram may decide."""
        return self.kind is TaskKind.APPROVAL

    @property
    def is_pending(self) -> bool:
        """True while the approver can still decide."""
        return self.state is TaskState.PENDING

    def allows(self, decision: Decision) -> bool:
        """True if 1C offers this decision on this task."""
        return decision in self.allowed_decisions


@dataclass(frozen=True, slots=True)
class OneCUser:
    """A 1C user found by phone, with every phone number on the user card (normalized)."""

    id: str
    name: str
    phones: tuple[str, ...] = ()
