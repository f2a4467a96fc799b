"""The approval route of business process `Согласование`: start, decide, cancel, edit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.onec.documents import DOCUMENT_TYPES, document_type, presentation
from sandbox.onec.model import (
    APPROVALS,
    EMPTY_DATE,
    Approval,
    CatalogItem,
    Composite,
    Document,
    Infobase,
    Stage,
    Task,
    guid,
    is_pending,
    to_decimal,
)

DECISION_CODES = {
    "approve": "Согласовать",
    "return_previous": "ВернутьНаПредыдущийЭтап",
    "return_initiator": "ВернутьИнициатору",
}
DECISIONS_BY_CODE = {code: decision for decision, code in DECISION_CODES.items()}
REWORK_STAGE_NAME = "Доработка инициатором"
ROUTE_POINT_APPROVE = "Согласовать"
ROUTE_POINT_REWORK = "Доработать"
IMPORTANCE = ("Обычная", "Высокая", "Низкая")
DEFAULT_STAGE_NAMES = (
    "Согласование руководителем",
    "Согласование финансовой службой",
    "Утверждение",
)


class RouteError(Exception):
    """A refused route operation; the message is what 1C's application code would raise."""


def allowed_decisions(task: Task) -> list[str]:
    """Decisions the task's stage offers: rework only resubmits; stage 1 has no previous stage."""
    if task.stage_number == 0:
        return ["approve"]
    if task.stage_number == 1:
        return ["approve", "return_initiator"]
    return ["approve", "return_previous", "return_initiator"]


def create_document(
    ib: Infobase, kind: str, fields: Mapping[str, Any], author: uuid.UUID | None = None
) -> Document:
    """A new document of a known type from loosely given fields (see `apply_fields`)."""
    spec = document_type(kind)
    if spec is None:
        raise ValueError(f"unknown document_type {kind!r}; known: {', '.join(DOCUMENT_TYPES)}")
    with ib.lock:
        number = f"0000-{ib.next_number(spec.set_name):06d}"
        document = Document(spec.set_name, guid(spec.set_name, number), number, ib.clock())
        if "ref" in fields:
            document.ref = uuid.UUID(str(fields["ref"]))
        document.attrs["Автор_Key"] = author or uuid.UUID(int=0)
        document.attrs["Комментарий"] = ""
        _defaults(ib, document)
        apply_fields(ib, document, fields)
        return ib.add_document(document)


def apply_fields(ib: Infobase, document: Document, fields: Mapping[str, Any]) -> None:
    """Set attributes and tables: references by GUID or by description (created if new)."""
    spec = document_type(document.set_name)
    assert spec is not None
    for key, value in fields.items():
        if key in ("Номер", "Number"):
            document.number = str(value)
        elif key in ("Дата", "Date"):
            document.date = datetime.fromisoformat(str(value)).replace(tzinfo=None)
        elif key == "ref":
            continue
        elif any(table.name == key for table in spec.tables):
            document.tables[key] = _lines(value)
        else:
            field = next(
                (f for f in spec.fields if key in (f.prop, f.prop.removesuffix("_Key"))), None
            )
            if field is None and key != "Комментарий":
                raise ValueError(f"unknown field {key!r} of {spec.name}")
            if field is None:
                document.attrs[key] = str(value)
            elif field.kind == "ref":
                document.attrs[field.prop] = _resolve(ib, field.target, value)
            elif field.kind == "amount":
                document.attrs[field.prop] = _amount(value)
            else:
                document.attrs[field.prop] = str(value)
    if "СуммаДокумента" in (f.prop for f in spec.fields) and not _has_amount(fields):
        lines = document.tables.get("РасшифровкаПлатежа", [])
        if lines:
            document.attrs["СуммаДокумента"] = sum(
                (to_decimal(x["Сумма"]) for x in lines), Decimal(0)
            )


def start_approval(
    ib: Infobase,
    document: Document,
    route: Sequence[uuid.UUID],
    initiator: uuid.UUID,
    stage_names: Sequence[str] | None = None,
    importance: str = "Обычная",
    due_days: int | None = 3,
) -> tuple[Approval, Task]:
    """Start `Согласование` over a document; the first stage's approver gets a task."""
    if not route:
        raise ValueError("route must name at least one approver")
    if importance not in IMPORTANCE:
        raise ValueError(f"importance must be one of {', '.join(IMPORTANCE)}")
    with ib.lock:
        for user in (*route, initiator):
            if ib.user(user) is None:
                raise ValueError(f"unknown user {user}")
        names = list(stage_names or [])
        stages = [
            Stage(n, names[n - 1] if n <= len(names) else _stage_name(n, len(route)), performer)
            for n, performer in enumerate(route, start=1)
        ]
        number = f"{ib.next_number(APPROVALS):09d}"
        approval = Approval(
            guid("approval", document.set_name, str(document.ref), number),
            number,
            ib.clock(),
            Composite(document.ref, document.set_name),
            initiator,
            stages,
        )
        ib.touch(approval)
        ib.approvals[approval.ref] = approval
        task = _new_task(ib, approval, 1, importance, due_days)
        return approval, task


def execute_task(
    ib: Infobase,
    task: Task,
    decision: str | None = None,
    comment: str | None = None,
    user: uuid.UUID | None = None,
) -> Task | None:
    """Execute a task and move the route; answers the next task, None when the route ended."""
    with ib.lock:
        approval = ib.approvals[task.approval]
        if task.executed:
            raise RouteError("Задача уже была выполнена ранее")
        if not is_pending(task, approval):
            raise RouteError(
                "Задача отменена: бизнес-процесс остановлен или задача помечена на удаление"
            )
        if decision is None:
            code = task.decision_code or DECISION_CODES["approve"]
            if code not in DECISIONS_BY_CODE:
                allowed = ", ".join(DECISIONS_BY_CODE)
                raise RouteError(f"Неизвестное решение согласования «{code}»; допустимы: {allowed}")
            decision = DECISIONS_BY_CODE[code]
        if decision not in allowed_decisions(task):
            raise RouteError(
                f"Решение «{DECISION_CODES[decision]}» недоступно на этапе «{task.stage_name}»"
            )
        task.executed = True
        task.executed_at = ib.clock()
        task.decision = decision
        task.decision_code = DECISION_CODES[decision]
        task.decided_by = user or task.performer
        if comment is not None:
            task.result_text = comment
        ib.touch(task)
        ib.emit("completed", task)
        return _advance(ib, approval, task, decision)


def cancel_approval(ib: Infobase, document: uuid.UUID) -> list[Task]:
    """Stop every running approval of a document; its open tasks get DeletionMark (cancelled)."""
    with ib.lock:
        running = [
            a for a in ib.approvals.values() if a.subject.ref == document and a.state == "active"
        ]
        if not running:
            raise LookupError(f"no running approval of document {document}")
        return [task for approval in running for task in stop_approval(ib, approval)]


def stop_approval(ib: Infobase, approval: Approval) -> list[Task]:
    """Stop one business process; its open tasks get DeletionMark and are reported cancelled."""
    with ib.lock:
        cancelled = [
            task
            for task in ib.tasks.values()
            if task.approval == approval.ref and is_pending(task, approval)
        ]
        for task in cancelled:
            task.deletion_mark = True
            ib.touch(task)
            ib.emit("cancelled", task)
        approval.state = "stopped"
        ib.touch(approval)
        return cancelled


def patch_task(ib: Infobase, task: Task, changes: Mapping[str, Any]) -> None:
    """Partial update of a task's writable fields; DeletionMark on a pending task cancels it."""
    with ib.lock:
        was_pending = is_pending(task, ib.approvals.get(task.approval))
        attributes = {
            "Description": "description",
            "Описание": "details",
            "РезультатВыполнения": "result_text",
            "РешениеСогласования": "decision_code",
            "Важность": "importance",
            "СрокИсполнения": "due",
            "DeletionMark": "deletion_mark",
        }
        for name, value in changes.items():
            setattr(task, attributes[name], value)
        ib.touch(task)
        if was_pending and task.deletion_mark:
            ib.emit("cancelled", task)
        else:
            ib.emit("updated", task)


def edit_document(ib: Infobase, document: Document, fields: Mapping[str, Any]) -> None:
    """A new version of a document; its open tasks are reported as updated."""
    with ib.lock:
        apply_fields(ib, document, fields)
        ib.touch(document)
        # Tasks keep their DataVersion and stored ПредметСтрокой, as in 1C; the feed still says
        # "updated" because the contract's Task.version covers the subject's version.
        for task in ib.open_tasks_of(document.ref):
            ib.emit("updated", task)


WRITABLE_TASK_FIELDS = (
    "Description",
    "Описание",
    "РезультатВыполнения",
    "РешениеСогласования",
    "Важность",
    "СрокИсполнения",
    "DeletionMark",
)


def _advance(ib: Infobase, approval: Approval, task: Task, decision: str) -> Task | None:
    stage = task.stage_number
    if decision == "approve":
        following = stage + 1
    elif decision == "return_previous":
        following = stage - 1
    else:
        following = 0
    if following > len(approval.route):
        approval.state = "completed"
        ib.touch(approval)
        return None
    approval.current_stage = following
    ib.touch(approval)
    return _new_task(
        ib, approval, following, task.importance, 3 if task.due != EMPTY_DATE else None
    )


def _new_task(
    ib: Infobase, approval: Approval, stage: int, importance: str, due_days: int | None
) -> Task:
    document = ib.find_document(approval.subject.ref)
    assert document is not None
    subject = presentation(document)
    if stage == 0:
        performer, stage_name, point = approval.initiator, REWORK_STAGE_NAME, ROUTE_POINT_REWORK
        title, details = f"Доработать: {subject}", "Документ возвращен инициатору на доработку"
    else:
        route_stage = approval.route[stage - 1]
        performer, stage_name, point = route_stage.performer, route_stage.name, ROUTE_POINT_APPROVE
        title = f"Согласовать: {subject}"
        details = document.attrs.get("НазначениеПлатежа") or f"Прошу согласовать: {subject}"
    now = ib.clock()
    ordinal = ib.next_number("Task")
    task = Task(
        ref=guid("task", str(approval.ref), str(ordinal)),
        ordinal=ordinal,
        number=f"{ordinal:09d}",
        date=now,
        description=title,
        approval=approval.ref,
        route_point=point,
        author=approval.initiator,
        author_name=ib.user_name(approval.initiator),
        performer=performer,
        subject=approval.subject,
        subject_name=subject,
        stage_number=stage,
        stage_name=stage_name,
        importance=importance,
        due=(now + timedelta(days=due_days)).replace(hour=18, minute=0, second=0)
        if due_days
        else EMPTY_DATE,
        details=str(details),
    )
    ib.touch(task)
    ib.tasks[task.ref] = task
    ib.emit("created", task)
    return task


def _stage_name(number: int, count: int) -> str:
    if count <= len(DEFAULT_STAGE_NAMES):
        return DEFAULT_STAGE_NAMES[len(DEFAULT_STAGE_NAMES) - count + number - 1]
    return f"Согласование, этап {number}"


def _defaults(ib: Infobase, document: Document) -> None:
    organizations = list(ib.catalog("Catalog_Организации"))
    if organizations:
        document.attrs["Организация_Key"] = organizations[0]
    spec = document_type(document.set_name)
    assert spec is not None
    for field in spec.fields:
        if field.kind == "ref" and field.prop not in document.attrs:
            items = list(ib.catalog(field.target))
            document.attrs[field.prop] = items[0] if items else uuid.UUID(int=0)
        elif field.kind == "amount":
            document.attrs.setdefault(field.prop, Decimal(0))
        else:
            document.attrs.setdefault(field.prop, "")
    for table in spec.tables:
        document.tables.setdefault(table.name, [])


def _resolve(ib: Infobase, target: str, value: Any) -> uuid.UUID:
    catalog = ib.catalog(target)
    try:
        ref = uuid.UUID(str(value))
    except ValueError:
        ref = None
    if ref is not None:
        if ref not in catalog:
            raise ValueError(f"no {target} with Ref_Key {ref}")
        return ref
    text = str(value)
    for item in catalog.values():
        if item.description == text:
            return item.ref
    return ib.add_catalog_item(CatalogItem(target, guid(target, text), text)).ref


def _amount(value: Any) -> Decimal:
    try:
        return to_decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _has_amount(fields: Mapping[str, Any]) -> bool:
    return "СуммаДокумента" in fields


def _lines(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(line, dict) for line in value):
        raise ValueError("a table must be a list of objects")
    lines = []
    for number, line in enumerate(value, start=1):
        converted = {
            key: _amount(item) if key in ("Сумма", "Значение") else str(item)
            for key, item in line.items()
            if key not in ("LineNumber", "Ref_Key")
        }
        lines.append({"LineNumber": number, **converted})
    return lines
