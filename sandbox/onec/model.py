"""In-memory state of the emulated infobase: catalogs, documents, approvals, tasks, the feed."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

EMPTY_REF = uuid.UUID(int=0)
EMPTY_DATE = datetime(1, 1, 1)
SERVER_TZ = timezone(timedelta(hours=3))
_NAMESPACE = uuid.UUID("5f0c2f5e-7a57-4b4e-9d7b-1c0000000001")
UH_NUMBER_PREFIX = "0000"  # the УХ seed's infobase prefix; ids stay as they were before ERP

USERS = "Catalog_Пользователи"
TASKS = "Task_ЗадачаИсполнителя"
APPROVALS = "BusinessProcess_Согласование"
ASSIGNMENTS = "BusinessProcess_Задание"
ORGANIZATIONS = "Catalog_Организации"
ROLES = "Catalog_РолиИсполнителей"
PERFORMER_GROUPS = "Catalog_ГруппыИсполнителейЗадач"
USER_GROUPS = "Catalog_ГруппыПользователей"
PERFORMERS = "InformationRegister_ИсполнителиЗадач"
PROCESS_ACTIVE = "Активен"
PROCESS_STOPPED = "Остановлен"

Row = dict[str, Any]


def guid(*names: str) -> uuid.UUID:
    """A stable GUID derived from names, so seeded data is the same on every start."""
    return uuid.uuid5(_NAMESPACE, "/".join(names))


def server_now() -> datetime:
    """The server's local wall clock without a time zone, as 1C stores dates."""
    return datetime.now(SERVER_TZ).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Composite:
    """A composite-type reference: the GUID and the entity set it points into ('' = Undefined)."""

    ref: uuid.UUID
    set_name: str = ""

    @property
    def type_name(self) -> str:
        """The `<Имя>_Type` value 1C sends alongside the reference."""
        return f"StandardODATA.{self.set_name}" if self.set_name else "StandardODATA.Undefined"


@dataclass
class CatalogItem:
    """One catalog element; `attrs` and `tables` are keyed by their OData property names."""

    set_name: str
    ref: uuid.UUID
    description: str
    code: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    deletion_mark: bool = False
    data_version: str = ""
    login: str = ""  # users only: 1C keeps logins in the infobase user list, not in OData


@dataclass
class Document:
    """One document; `attrs` and `tables` are keyed by their OData property names."""

    set_name: str
    ref: uuid.UUID
    number: str
    date: datetime
    attrs: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    posted: bool = False
    deletion_mark: bool = False
    data_version: str = ""


@dataclass(frozen=True)
class Stage:
    """One stage of a route: its number (from 1), name and approver (a user, or empty + a role)."""

    number: int
    name: str
    performer: uuid.UUID
    role: uuid.UUID = EMPTY_REF


@dataclass(frozen=True)
class PerformerRecord:
    """A record of `InformationRegister_ИсполнителиЗадач`: who performs a role for which objects.

    Dimensions РольИсполнителя, Исполнитель, ОсновнойОбъектАдресации, ДополнительныйОбъектАдресации;
    the attribute ГруппаИсполнителейЗадач is computed on write (БСП:
    InformationRegisters/ИсполнителиЗадач/Ext/RecordSetModule.bsl, ПередЗаписью).
    """

    role: uuid.UUID
    user: uuid.UUID
    main: Composite = Composite(EMPTY_REF)
    extra: Composite = Composite(EMPTY_REF)
    group: uuid.UUID = EMPTY_REF


@dataclass
class Approval:
    """A business process instance: `Согласование` over a document, or БСП's `Задание`."""

    ref: uuid.UUID
    number: str
    date: datetime
    subject: Composite
    initiator: uuid.UUID
    route: list[Stage]
    current_stage: int = 1  # 0 while the initiator reworks the document
    state: str = "active"  # active | completed | stopped
    deletion_mark: bool = False
    data_version: str = ""
    set_name: str = APPROVALS  # the process type: APPROVALS or ASSIGNMENTS
    title: str = ""  # Задание: its name


@dataclass
class Task:
    """A `Task_ЗадачаИсполнителя`; ExecuteTask reads `decision_code` and `result_text`."""

    ref: uuid.UUID
    ordinal: int
    number: str
    date: datetime
    description: str
    approval: uuid.UUID
    route_point: str
    author: uuid.UUID
    author_name: str
    performer: uuid.UUID
    subject: Composite
    subject_name: str
    stage_number: int
    stage_name: str
    importance: str = "Обычная"
    due: datetime = EMPTY_DATE
    details: str = ""
    result_text: str = ""
    decision_code: str = ""
    executed: bool = False
    executed_at: datetime = EMPTY_DATE
    deletion_mark: bool = False
    data_version: str = ""
    decision: str | None = None  # contract name of the decision taken, once executed
    decided_by: uuid.UUID | None = None
    process_set: str = APPROVALS  # BusinessProcess_Type of the task
    role: uuid.UUID = EMPTY_REF  # РольИсполнителя; with an empty performer: a role task
    main_object: Composite = Composite(EMPTY_REF)  # ОсновнойОбъектАдресации
    extra_object: Composite = Composite(EMPTY_REF)  # ДополнительныйОбъектАдресации
    group: uuid.UUID = EMPTY_REF  # ГруппаИсполнителейЗадач
    process_state: str = PROCESS_ACTIVE  # СостояниеБизнесПроцесса
    accepted: bool = False  # ПринятаКИсполнению
    accepted_at: datetime = EMPTY_DATE  # ДатаПринятияКИсполнению


@dataclass(frozen=True)
class Event:
    """One entry of the change feed."""

    seq: int
    type: str  # created | updated | cancelled | completed
    task_id: uuid.UUID
    at: datetime


@dataclass(frozen=True)
class CardSettings:
    """The extension's settings for one document type: attribute and table names on the card."""

    fields: tuple[str, ...]
    tables: tuple[str, ...]


class Infobase:
    """All state behind one lock; every change bumps a DataVersion and may append to the feed."""

    def __init__(self, clock: Callable[[], datetime] = server_now) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.listeners: list[Callable[[list[Event]], None]] = []
        self.epoch = 0
        # 1C's infobase prefix (ПрефиксИнформационнойБазы) before document numbers: "0000" for
        # the УХ seed. Numbers feed the seeded GUIDs, so two bases' documents get other ids.
        self.number_prefix = UH_NUMBER_PREFIX
        self.clear()

    def clear(self) -> None:
        """Forget everything (a new epoch, so old cursors and page tokens restart)."""
        with self.lock:
            self.epoch += 1
            self.catalogs: dict[str, dict[uuid.UUID, CatalogItem]] = {}
            self.documents: dict[str, dict[uuid.UUID, Document]] = {}
            self.approvals: dict[uuid.UUID, Approval] = {}
            self.tasks: dict[uuid.UUID, Task] = {}
            self.events: list[Event] = []
            self.idempotency: dict[str, tuple[int, dict[str, Any]]] = {}
            self.performers: list[PerformerRecord] = []
            self.refusals: dict[uuid.UUID, str] = {}  # document → 1C's text when executing
            # The 1C extension's side (http/soap only): its settings' card fields per document
            # type (absent: every field), who may not read a document, tasks another 1C session
            # holds locked, and the register of decisions from Telegram.
            self.card_settings: dict[str, CardSettings] = {}
            self.read_denied: dict[uuid.UUID, set[uuid.UUID]] = {}
            self.locked_tasks: set[uuid.UUID] = set()
            self.audit: list[dict[str, Any]] = []
            self.counters: dict[str, int] = {}
            self._version = 0
            self._row_cache: dict[uuid.UUID, tuple[str, Row]] = {}

    def scoped_guid(self, *names: str) -> uuid.UUID:
        """`guid(*names)`, made this infobase's own when its prefix is not УХ's: objects whose
        ids derive from per-base counters alone would otherwise get the same id in two bases."""
        if self.number_prefix == UH_NUMBER_PREFIX:
            return guid(*names)
        return guid(self.number_prefix, *names)

    def next_number(self, kind: str) -> int:
        """The next number in a named sequence (task numbers, document numbers, ...)."""
        with self.lock:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            return self.counters[kind]

    def next_version(self) -> str:
        """A fresh DataVersion in 1C's look (base64 of an opaque counter)."""
        with self.lock:
            self._version += 1
            return base64.b64encode(self._version.to_bytes(8, "big")).decode()

    def touch(self, entity: CatalogItem | Document | Approval | Task) -> None:
        """Record a change of an entity: a new DataVersion."""
        entity.data_version = self.next_version()

    def emit(self, kind: str, task: Task) -> Event:
        """Append an event about a task to the feed and tell the listeners (the pusher)."""
        with self.lock:
            event = Event(len(self.events) + 1, kind, task.ref, self.clock())
            self.events.append(event)
            for listener in self.listeners:
                listener([event])
            return event

    def add_catalog_item(self, item: CatalogItem) -> CatalogItem:
        """Store a catalog element under a fresh DataVersion."""
        with self.lock:
            self.touch(item)
            self.catalogs.setdefault(item.set_name, {})[item.ref] = item
            return item

    def add_document(self, document: Document) -> Document:
        """Store a document under a fresh DataVersion."""
        with self.lock:
            self.touch(document)
            self.documents.setdefault(document.set_name, {})[document.ref] = document
            return document

    def catalog(self, set_name: str) -> dict[uuid.UUID, CatalogItem]:
        """The elements of one catalog by reference."""
        return self.catalogs.setdefault(set_name, {})

    def user(self, ref: uuid.UUID) -> CatalogItem | None:
        """A user by reference."""
        return self.catalog(USERS).get(ref)

    def user_name(self, ref: uuid.UUID) -> str:
        """A user's full name, '' for an empty or unknown reference."""
        user = self.user(ref)
        return user.description if user else ""

    def find_document(self, ref: uuid.UUID) -> Document | None:
        """A document of any type by reference."""
        with self.lock:
            for documents in self.documents.values():
                if ref in documents:
                    return documents[ref]
            return None

    def open_tasks_of(self, document: uuid.UUID) -> Iterator[Task]:
        """Pending tasks whose subject is the document."""
        for task in list(self.tasks.values()):
            if task.subject.ref == document and is_pending(task, self.approvals.get(task.approval)):
                yield task

    def cached_row(self, ref: uuid.UUID, version: str, build: Callable[[], Row]) -> Row:
        """An entity's OData row, rebuilt only when its DataVersion changed (10k-task lists)."""
        hit = self._row_cache.get(ref)
        if hit and hit[0] == version:
            return hit[1]
        row = build()
        self._row_cache[ref] = (version, row)
        return row


def is_pending(task: Task, approval: Approval | None) -> bool:
    """Pending: not executed, not marked for deletion, its business process running.

    БСП counts a user's tasks so (CommonModules/БизнесПроцессыИЗадачиСервер/Ext/Module.bsl,
    КоличествоЗадачИсполнителя): not ПометкаУдаления, not Выполнена, СостояниеБизнесПроцесса
    Активен.
    """
    if task.executed or task.deletion_mark or task.process_state == PROCESS_STOPPED:
        return False
    return approval is None or (approval.state == "active" and not approval.deletion_mark)


def task_state(task: Task, approval: Approval | None) -> str:
    """The contract's state of a task: pending, completed or cancelled."""
    if task.executed:
        return "completed"
    return "pending" if is_pending(task, approval) else "cancelled"


def to_decimal(value: Any) -> Decimal:
    """A JSON number or numeric string as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))
