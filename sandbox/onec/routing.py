"""The approval route of business process `Согласование`: start, decide, cancel, edit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.onec import addressing
from sandbox.onec.documents import DOCUMENT_TYPES, TableSpec, document_type, presentation
from sandbox.onec.model import (
    APPROVALS,
    ASSIGNMENTS,
    EMPTY_DATE,
    EMPTY_REF,
    ORGANIZATIONS,
    PROCESS_STOPPED,
    ROLES,
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


STOPPED_PROCESS_TEXT = "Нельзя выполнять задачи остановленных бизнес-процессов."
ASSIGNMENT_STAGE_NAME = "Выполнение задания"
ROUTE_POINT_EXECUTE = "Выполнить"


class RouteError(Exception):
    """A refused route operation; the message is what 1C's application code would raise."""


class Refused(RouteError):
    """1C's own code refused to execute the task (an exception in the configuration)."""


@dataclass(frozen=True)
class RoleRoute:
    """A route item addressed to a performer role instead of a user."""

    role: uuid.UUID


Performer = uuid.UUID | RoleRoute


def allowed_decisions(task: Task) -> list[str]:
    """Decisions the task's stage offers: rework only resubmits; stage 1 has no previous stage."""
    if task.process_set != APPROVALS:
        return []
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
        number = f"{ib.number_prefix}-{ib.next_number(spec.set_name):06d}"
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
            table = next(t for t in spec.tables if t.name == key)
            document.tables[key] = _lines(ib, table, value)
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
    route: Sequence[Performer],
    initiator: uuid.UUID,
    stage_names: Sequence[str] | None = None,
    importance: str = "Обычная",
    due_days: int | None = 3,
    task_ref: uuid.UUID | None = None,
) -> tuple[Approval, Task]:
    """Start `Согласование` over a document; the first stage's approver (or role) gets a task.

    `task_ref` gives that task a chosen id (unique within this infobase): another infobase may
    hold a task with the same GUID, which a gateway serving both must keep apart.
    """
    if not route:
        raise ValueError("route must name at least one approver")
    if importance not in IMPORTANCE:
        raise ValueError(f"importance must be one of {', '.join(IMPORTANCE)}")
    with ib.lock:
        _check_performers(ib, [*route, initiator])
        names = list(stage_names or [])
        stages = [
            Stage(
                n,
                names[n - 1] if n <= len(names) else _stage_name(n, len(route)),
                item if isinstance(item, uuid.UUID) else EMPTY_REF,
                item.role if isinstance(item, RoleRoute) else EMPTY_REF,
            )
            for n, item in enumerate(route, start=1)
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
        if task_ref is not None and task_ref in ib.tasks:
            raise ValueError(f"task {task_ref} exists already")
        task = _new_task(ib, approval, 1, importance, due_days, task_ref)
        return approval, task


def start_assignment(
    ib: Infobase,
    title: str,
    performer: Performer,
    author: uuid.UUID,
    document: Document | None = None,
) -> tuple[Approval, Task]:
    """Start БСП's `Задание` (not an approval): one task for a user or a role.

    БСП: BusinessProcesses/Задание/Ext/ObjectModule.bsl, ВыполнитьПриСозданииЗадач: a role in
    `Исполнитель` becomes the task's РольИсполнителя with its addressing objects and an empty
    Исполнитель; a user becomes the task's Исполнитель.
    """
    if not title.strip():
        raise ValueError("title is required")
    with ib.lock:
        _check_performers(ib, [performer, author])
        number = f"{ib.next_number(ASSIGNMENTS):09d}"
        subject = Composite(document.ref, document.set_name) if document else Composite(EMPTY_REF)
        process = Approval(
            ib.scoped_guid("assignment", number, title),
            number,
            ib.clock(),
            subject,
            author,
            [
                Stage(
                    1,
                    ASSIGNMENT_STAGE_NAME,
                    performer if isinstance(performer, uuid.UUID) else EMPTY_REF,
                    performer.role if isinstance(performer, RoleRoute) else EMPTY_REF,
                )
            ],
            set_name=ASSIGNMENTS,
            title=title,
        )
        ib.touch(process)
        ib.approvals[process.ref] = process
        return process, _new_task(ib, process, 1, "Обычная", 3)


def execute_task(
    ib: Infobase,
    task: Task,
    decision: str | None = None,
    comment: str | None = None,
    user: uuid.UUID | None = None,
    signed_in: uuid.UUID | None = None,
) -> Task | None:
    """Execute a task and move the route; answers the next task, None when the route ended.

    БСП's rules (Tasks/ЗадачаИсполнителя/Ext/ObjectModule.bsl, ПередЗаписью): a task of a stopped
    process cannot be executed; an empty Исполнитель becomes the signed-in user
    (Пользователи.АвторизованныйПользователь); an executed task is also accepted
    (ПринятаКИсполнению, ДатаПринятияКИсполнению). `user` is who decided through the contract.
    """
    with ib.lock:
        approval = ib.approvals[task.approval]
        check_executable(ib, task)
        if task.process_set != APPROVALS:
            _mark_executed(ib, task, user, signed_in, comment)
            ib.emit("completed", task)
            approval.state = "completed"
            ib.touch(approval)
            return None
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
        task.decision = decision
        task.decision_code = DECISION_CODES[decision]
        _mark_executed(ib, task, user, signed_in, comment)
        ib.emit("completed", task)
        return _advance(ib, approval, task, decision)


def check_executable(ib: Infobase, task: Task) -> None:
    """Raise what 1C raises on executing this task now; nothing is changed."""
    if task.executed:
        raise RouteError("Задача уже была выполнена ранее")
    if task.process_state == PROCESS_STOPPED:
        raise RouteError(STOPPED_PROCESS_TEXT)
    if not is_pending(task, ib.approvals.get(task.approval)):
        raise RouteError(
            "Задача отменена: бизнес-процесс остановлен или задача помечена на удаление"
        )
    refusal = ib.refusals.get(task.subject.ref)
    if refusal is not None:
        raise Refused(refusal)


def _mark_executed(
    ib: Infobase,
    task: Task,
    user: uuid.UUID | None,
    signed_in: uuid.UUID | None,
    comment: str | None,
) -> None:
    now = ib.clock()
    if task.performer == EMPTY_REF:
        task.performer = user or signed_in or EMPTY_REF
    task.executed = True
    task.executed_at = now
    task.decided_by = user or task.performer
    if not task.accepted:
        task.accepted = True
        task.accepted_at = now
    if comment is not None:
        task.result_text = comment
    ib.touch(task)


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


def stop_process(ib: Infobase, approval: Approval) -> list[Task]:
    """Stop a business process as БСП does: its open tasks get СостояниеБизнесПроцесса Остановлен.

    БСП: CommonModules/БизнесПроцессыИЗадачиСервер/Ext/Module.bsl, ОстановитьБизнесПроцесс (the
    process's Состояние) and ПриИзмененииСостоянияБизнесПроцесса (every not executed task of the
    process gets the new state); nothing is marked for deletion.
    """
    with ib.lock:
        if approval.state == "completed":
            raise RouteError("Невозможно остановить завершенные бизнес-процессы.")
        if approval.state == "stopped":
            raise RouteError("Бизнес-процесс уже остановлен.")
        stopped = []
        for task in ib.tasks.values():
            if task.approval != approval.ref or task.executed:
                continue
            was_pending = is_pending(task, approval)
            task.process_state = PROCESS_STOPPED
            ib.touch(task)
            if was_pending:
                ib.emit("cancelled", task)
                stopped.append(task)
        approval.state = "stopped"
        ib.touch(approval)
        return stopped


def patch_task(ib: Infobase, task: Task, changes: Mapping[str, Any]) -> None:
    """Partial update of a task's writable fields; DeletionMark on a pending task cancels it.

    A filled `ПринятаКИсполнению` without a date gets the current one, as the task's
    ПередЗаписью does (Tasks/ЗадачаИсполнителя/Ext/ObjectModule.bsl).
    """
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
            "Исполнитель": "performer",
            "ПринятаКИсполнению": "accepted",
            "ДатаПринятияКИсполнению": "accepted_at",
        }
        for name, value in changes.items():
            setattr(task, attributes[name], value)
        if task.accepted and task.accepted_at == EMPTY_DATE:
            task.accepted_at = ib.clock()
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
    "Исполнитель",
    "ПринятаКИсполнению",
    "ДатаПринятияКИсполнению",
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
    ib: Infobase,
    approval: Approval,
    stage: int,
    importance: str,
    due_days: int | None,
    ref: uuid.UUID | None = None,
) -> Task:
    document = ib.find_document(approval.subject.ref)
    subject = presentation(document) if document else ""
    role = EMPTY_REF
    if stage == 0:
        performer, stage_name, point = approval.initiator, REWORK_STAGE_NAME, ROUTE_POINT_REWORK
        title, details = f"Доработать: {subject}", "Документ возвращен инициатору на доработку"
    elif approval.set_name == ASSIGNMENTS:
        route_stage = approval.route[0]
        performer, role, stage_name = route_stage.performer, route_stage.role, route_stage.name
        point, title, details = ROUTE_POINT_EXECUTE, approval.title, approval.title
    else:
        assert document is not None
        route_stage = approval.route[stage - 1]
        performer, stage_name, point = route_stage.performer, route_stage.name, ROUTE_POINT_APPROVE
        role = route_stage.role
        title = f"Согласовать: {subject}"
        details = document.attrs.get("НазначениеПлатежа") or f"Прошу согласовать: {subject}"
    main = _main_object(ib, role, document)
    now = ib.clock()
    ordinal = ib.next_number("Task")
    task = Task(
        ref=ref or guid("task", str(approval.ref), str(ordinal)),
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
        process_set=approval.set_name,
        role=role,
        main_object=main,
        group=addressing.performer_group(ib, role, main, addressing.NO_OBJECT),
    )
    ib.touch(task)
    ib.tasks[task.ref] = task
    ib.emit("created", task)
    return task


def _main_object(ib: Infobase, role: uuid.UUID, document: Document | None) -> Composite:
    """The document's organization when the role's register records name organizations."""
    if role == EMPTY_REF or document is None:
        return addressing.NO_OBJECT
    if not any(r.role == role and r.main.ref != EMPTY_REF for r in ib.performers):
        return addressing.NO_OBJECT
    organization = document.attrs.get("Организация_Key", EMPTY_REF)
    return (
        Composite(organization, ORGANIZATIONS)
        if organization != EMPTY_REF
        else addressing.NO_OBJECT
    )


def _check_performers(ib: Infobase, performers: Sequence[Performer]) -> None:
    for item in performers:
        if isinstance(item, RoleRoute):
            if item.role not in ib.catalog(ROLES):
                raise ValueError(f"unknown role {item.role}")
        elif ib.user(item) is None:
            raise ValueError(f"unknown user {item}")


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


def _lines(ib: Infobase, table: TableSpec, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(line, dict) for line in value):
        raise ValueError("a table must be a list of objects")
    columns = {column.prop: column for column in table.columns}
    columns.update({column.prop.removesuffix("_Key"): column for column in table.columns})
    lines = []
    for number, line in enumerate(value, start=1):
        converted: dict[str, Any] = {"LineNumber": number}
        for key, item in line.items():
            if key in ("LineNumber", "Ref_Key"):
                continue
            column = columns.get(key)
            if column is None:
                converted[key] = str(item)  # kept as given, as before tables had typed columns
            elif column.kind == "ref":
                converted[column.prop] = _resolve(ib, column.target, item)
            elif column.kind in ("amount", "number"):
                converted[column.prop] = _amount(item)
            else:
                converted[column.prop] = str(item)
        lines.append(converted)
    return lines
