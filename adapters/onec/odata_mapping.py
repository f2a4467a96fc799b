"""OData rows as domain records, and nothing else: no requests, no caches changed.

Mapping a task reads its row and what was read beforehand (`Known`): the documents and business
processes it refers to, the performers register, names of referenced catalog items, document
specs. `TaskMapper.references` says which names a row will show, so the connector can read the
unknown ones for a whole pass in one batch per catalog before it maps.

Who may decide follows БСП (design 5.5): a task's `Исполнитель`, else every performer the
register names for its group. A stopped process shows on the task (`СостояниеБизнесПроцесса`),
or, on infobases without that field, on the process row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timezone

from adapters.onec import odata_values as v
from adapters.onec.odata_cache import UNSEEN, Performers, Ref, Versioned
from adapters.onec.odata_documents import column_property
from adapters.onec.odata_values import Row
from adapters.onec.profile import Addressing, Column, DocumentSpec, Profile
from adapters.onec.session import UPSTREAM
from gateway.domain.phones import normalize_phone
from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    OneCUser,
    Person,
    Result,
    Stage,
    Subject,
    Table,
    Task,
    TaskKind,
    TaskState,
)
from gateway.errors import MalformedAnswer

Wanted = dict[str, set[str]]  # entity set → GUIDs whose names are needed


@dataclass(frozen=True, slots=True)
class Known:
    """What mapping reads besides the task row, all of it read from 1C beforehand."""

    related: Mapping[str, Versioned]  # document or process GUID → its row (None: deleted)
    names: Mapping[Ref, str]  # (catalog, GUID) → Description
    register: Mapping[str, Performers]  # performers group → performers
    specs: Mapping[str, DocumentSpec | None]  # document entity set → how it is shown


def want(wanted: Wanted, entity_set: str, key: str | None) -> None:
    """Add one reference to `wanted` (nothing for an empty one)."""
    if key:
        wanted.setdefault(entity_set, set()).add(key)


def want_all(wanted: Wanted, refs: Iterable[Ref]) -> None:
    """Add every (entity set, GUID) of `refs` to `wanted`."""
    for entity_set, key in refs:
        want(wanted, entity_set, key)


class TaskMapper:
    """Task rows (`Task_ЗадачаИсполнителя`) as domain `Task`s, as a profile describes them."""

    def __init__(self, profile: Profile, approval_processes: frozenset[str]) -> None:
        self.profile = profile
        self.approval_processes = approval_processes
        self._f = profile.task_fields
        self._a = profile.addressing

    # --- what a row refers to -----------------------------------------------------------------

    def subject_ref(self, row: Row) -> Ref | None:
        """The task's document (`Предмет`) as (entity set, GUID), None if it has none."""
        return v.composite(row, self._f["subject"])

    def process_ref(self, row: Row) -> Ref | None:
        """The task's business process as (entity set, GUID), None if it has none."""
        return v.composite(row, self._f["business_process"])

    def role_group(self, row: Row) -> str | None:
        """The performers group of a role task (no `Исполнитель`), else None."""
        if v.composite(row, self._f["performer"]) is not None:
            return None
        return v.ref(row.get(self._a.performer_group))

    def candidate_keys(self, row: Row, register: Mapping[str, Performers]) -> Performers:
        """Who the register says performs a role task's group; () for any other task."""
        group = self.role_group(row)
        return register.get(group, ()) if group else ()

    def inputs(
        self, row: Row, related: Mapping[str, Versioned], register: Mapping[str, Performers]
    ) -> tuple[object, ...]:
        """What the task mapped from `row` depends on besides names (kept once read) and
        specs: equal inputs, equal task. Cheap, for thousands of rows a pass."""
        subject = self.subject_ref(row)
        process = self.process_ref(row)
        return (
            row.get(self._f["version"]),
            related.get(subject[1], UNSEEN).version if subject else None,
            related.get(process[1], UNSEEN).version if process else None,
            self.candidate_keys(row, register),
        )

    def references(self, row: Row, known: Known) -> Wanted:
        """Every catalog item whose name the task mapped from `row` shows."""
        wanted: Wanted = {}
        performer, initiator = (v.composite(row, self._f[n]) for n in ("performer", "initiator"))
        want_all(wanted, [person for person in (performer, initiator) if person])
        if performer is None:
            want(wanted, self._a.roles, v.ref(row.get(self._a.role)))
            want_all(wanted, self.candidate_keys(row, known.register))
        shown = self._shown_document(row, known)
        if shown is not None:
            spec, document = shown
            want_all(wanted, document_references(spec, document))
        return wanted

    # --- the task -----------------------------------------------------------------------------

    def task(self, row: Row, known: Known) -> Task:
        """The task `row` describes; MalformedAnswer for a row without an id or a date."""
        f, p = self._f, self.profile
        zone = p.server_timezone
        task_id = str(row.get(f["id"], ""))
        created = v.date(row.get(f["created_at"]), zone)
        if not task_id or created is None:
            raise MalformedAnswer(
                UPSTREAM, f"{p.task_set}: a task without {f['id']} or {f['created_at']}"
            )
        subject_ref = self.subject_ref(row)
        process_ref = self.process_ref(row)
        found = known.related.get(process_ref[1]) if process_ref else None
        process = found.value if found else None
        state = TaskState.PENDING
        if row.get(f["executed"]):
            state = TaskState.COMPLETED
        elif row.get(f["deletion_mark"]) or self._process_cancelled(
            row, process_ref, process, known
        ):
            state = TaskState.CANCELLED
        kind = TaskKind.TASK
        if process_ref is not None and process_ref[0] in self.approval_processes:
            kind = TaskKind.APPROVAL
        document = known.related.get(subject_ref[1]) if subject_ref else None
        version = str(row.get(f["version"], ""))
        if document is not None and document.value is not None:
            # A new document version must look like a new task version (new card, new PDF).
            version = f"{version}.{document.version}"
        stage = self._stage(row, process)
        performer = self._performer(row, known)
        return Task(
            id=task_id,
            version=version,
            number=str(row.get(f["number"], "")).strip(),
            created_at=created,
            due_at=v.date(row.get(f["due_at"]), zone),
            importance=p.importance.get(str(row.get(f["importance"], "")), Importance.NORMAL),
            state=state,
            title=str(row.get(f["title"], "")),
            performer=performer,
            initiator=self._person(row, "initiator", known, str(row.get(f["initiator_name"], ""))),
            stage=stage,
            subject=self._subject(row, subject_ref, known),
            allowed_decisions=self.allowed(stage)
            if state is TaskState.PENDING and kind is TaskKind.APPROVAL
            else (),
            result=self._result(row, state, zone),
            kind=kind,
            role=self._role(row, known) if performer is None else None,
            candidates=self._candidates(row, known) if performer is None else (performer,),
        )

    def allowed(self, stage: Stage) -> tuple[Decision, ...]:
        """The profile's decisions, less those the stage rules out where the stage is known:
        stage 1 has no previous stage, and stage 0 (the initiator's rework) can only resubmit."""
        allowed = [d for d in Decision if d in self.profile.decisions]
        if self.profile.stage_number:
            if stage.number == 0:
                allowed = [Decision.APPROVE]
            elif stage.number == 1:
                allowed = [d for d in allowed if d is not Decision.RETURN_PREVIOUS]
        return tuple(allowed)

    def _role(self, row: Row, known: Known) -> Person | None:
        key = v.ref(row.get(self._a.role))
        if key is None:
            return None
        return Person(key, known.names.get((self._a.roles, key), ""))

    def _candidates(self, row: Row, known: Known) -> tuple[Person, ...]:
        return tuple(
            Person(key, known.names.get((entity_set, key), ""))
            for entity_set, key in self.candidate_keys(row, known.register)
        )

    def _process_cancelled(
        self, row: Row, ref: Ref | None, process: Row | None, known: Known
    ) -> bool:
        if ref is None:
            return False
        if self._a.process_state in row:
            return str(row[self._a.process_state]) in self.profile.process_stopped_values
        if process is None:
            return ref[1] in known.related  # looked up and not found: deleted
        state = str(process.get(self.profile.process_state_field, ""))
        return bool(process.get("DeletionMark")) or state in self.profile.process_stopped_values

    def _performer(self, row: Row, known: Known) -> Person | None:
        """The task's `Исполнитель`; None for a task addressed to a role."""
        if v.composite(row, self._f["performer"]) is None:
            return None
        return self._person(row, "performer", known)

    def _person(self, row: Row, field_name: str, known: Known, fallback: str = "") -> Person:
        found = v.composite(row, self._f[field_name])
        if found is None:
            return Person("", fallback)
        return Person(found[1], known.names.get(found) or fallback)

    def _stage(self, row: Row, process: Row | None) -> Stage:
        p = self.profile
        name = str(row.get(p.stage_name, "")) if p.stage_name else ""
        number = v.as_int(row.get(p.stage_number)) if p.stage_number else 0
        count = v.as_int(process.get(p.stage_count)) if p.stage_count and process else 0
        return Stage(name=name, number=number, count=count)

    def _shown_document(self, row: Row, known: Known) -> tuple[DocumentSpec, Row] | None:
        """The task's document row and its spec, where the card shows its fields."""
        ref = self.subject_ref(row)
        if ref is None:
            return None
        document = known.related.get(ref[1])
        spec = known.specs.get(ref[0])
        if document is None or document.value is None or spec is None or not spec.title:
            return None
        return spec, document.value

    def _subject(self, row: Row, ref: Ref | None, known: Known) -> Subject:
        presentation = str(row.get(self._f["subject_presentation"], ""))
        if ref is None:
            return Subject(type="", id="", presentation=presentation)
        entity_set, key = ref
        document = known.related.get(key)
        if document is None or document.value is None:
            return Subject(type=entity_set, id=key, presentation=presentation)
        shown = self._shown_document(row, known)
        if shown is None:
            return Subject(
                type=entity_set, id=key, presentation=presentation, version=document.version
            )
        spec, values = shown
        zone = self.profile.server_timezone
        return Subject(
            type=entity_set,
            id=key,
            presentation=presentation,
            fields=document_fields(spec, values, known.names, zone),
            tables=document_tables(spec, values, known.names, zone),
            version=document.version,
        )

    def _result(self, row: Row, state: TaskState, zone: timezone | None) -> Result | None:
        if state is not TaskState.COMPLETED or not self.profile.decision_field:
            return None
        decision = self.profile.decision_codes.get(str(row.get(self.profile.decision_field, "")))
        at = v.date(row.get(self._f["executed_at"]), zone)
        if decision is None or at is None:
            return None
        performer = v.composite(row, self._f["performer"])
        return Result(
            decision=decision,
            comment=str(row.get(self._f["result"], "")),
            user_id=performer[1] if performer else "",
            at=at,
        )


# --- documents ------------------------------------------------------------------------------------


def document_references(spec: DocumentSpec, document: Row) -> list[Ref]:
    """Every catalog item a document's shown fields and table columns refer to."""
    refs: list[Ref] = []
    for column in spec.fields:
        refs += _reference(column, document)
    for table in spec.tables:
        for line in _lines(document, table.property):
            for column in table.columns:
                refs += _reference(column, line)
    return refs


def document_fields(
    spec: DocumentSpec, document: Row, names: Mapping[Ref, str], zone: timezone | None
) -> tuple[Field, ...]:
    """Number, date, then the spec's fields, as presentation strings."""
    fields = [
        Field("Номер", str(document.get("Number", "")).strip()),
        Field("Дата", v.text(document.get("Date"), "date", zone)),
    ]
    for column in spec.fields:
        fields.append(Field(column.label, _value(column, document, names, zone)))
    return tuple(fields)


def document_tables(
    spec: DocumentSpec, document: Row, names: Mapping[Ref, str], zone: timezone | None
) -> tuple[Table, ...]:
    """The spec's tabular sections, rows in `LineNumber` order."""
    tables = []
    for table in spec.tables:
        lines = sorted(_lines(document, table.property), key=_line_number)
        rows = tuple(
            (str(_line_number(line)), *(_value(c, line, names, zone) for c in table.columns))
            for line in lines
        )
        columns = ("№", *(c.label for c in table.columns))
        tables.append(Table(table.label, columns, rows))
    return tuple(tables)


def _reference(column: Column, values: Row) -> list[Ref]:
    key = v.ref(values.get(column_property(column))) if column.reference else None
    return [(column.reference, key)] if key else []


def _value(column: Column, values: Row, names: Mapping[Ref, str], zone: timezone | None) -> str:
    raw = values.get(column_property(column))
    if column.reference:
        key = v.ref(raw)
        return "" if key is None else names.get((column.reference, key), "")
    return v.text(raw, column.format, zone)


def _line_number(line: Row) -> int:
    return v.as_int(line.get("LineNumber"))


def _lines(document: Row, table: str) -> list[Row]:
    return [line for line in document.get(table) or [] if isinstance(line, dict)]


# --- registers and users --------------------------------------------------------------------------


def performers_by_group(
    records: Iterable[Row], addressing: Addressing, wanted: Iterable[str]
) -> dict[str, Performers]:
    """`ИсполнителиЗадач` records as performers by group, each performer once, in the order
    the records name them; a `wanted` group no record names has none."""
    groups: dict[str, dict[Ref, None]] = {group: {} for group in wanted}
    for record in records:
        group = v.ref(record.get(addressing.performer_group))
        who = v.composite(record, addressing.register_performer)
        if group and who:
            groups.setdefault(group, {})[who] = None
    return {group: tuple(people) for group, people in groups.items()}


def user_of(row: Row, profile: Profile) -> OneCUser | None:
    """A `Catalog_Пользователи` row as a user with their phones (normalized, each once); None
    for a user marked for deletion or invalid, who may not be matched."""
    uf = profile.user_fields
    if row.get(uf["deletion_mark"]) or row.get(uf["invalid"]):
        return None
    phones: list[str] = []
    for contact in row.get(uf["contacts"]) or []:
        if (
            not isinstance(contact, dict)
            or contact.get(uf["contact_kind"]) != profile.phone_kind_value
        ):
            continue
        for name in profile.phone_fields:
            phone = normalize_phone(str(contact.get(name) or ""))
            if phone:
                phones.append(phone)
                break
    return OneCUser(str(row[uf["id"]]), str(row.get(uf["name"], "")), tuple(dict.fromkeys(phones)))
