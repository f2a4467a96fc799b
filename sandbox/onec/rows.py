"""Model objects as typed OData rows (GUIDs, datetimes, Decimals, Composite) and presentations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from sandbox.onec.documents import presentation as document_presentation
from sandbox.onec.model import (
    APPROVALS,
    ASSIGNMENTS,
    EMPTY_REF,
    PERFORMERS,
    ROLES,
    TASKS,
    USERS,
    Approval,
    CatalogItem,
    Composite,
    Document,
    Infobase,
    PerformerRecord,
    Row,
    Task,
)

_T = TypeVar("_T")
_APPROVAL_STATES = {"active": "Активен", "completed": "Завершен", "stopped": "Остановлен"}


def catalog_row(item: CatalogItem) -> Row:
    """A catalog element's row."""
    return _object_row(item, {"Code": item.code, "Description": item.description})


def document_row(document: Document) -> Row:
    """A document's row."""
    own: Row = {"Number": document.number, "Date": document.date, "Posted": document.posted}
    return _object_row(document, own)


def _object_row(item: CatalogItem | Document, own: Row) -> Row:
    """Reference, version and deletion mark, then `own` fields, the attributes and the tables."""
    row: Row = {**_head(item), **own}
    row.update(item.attrs)
    row.update(_tables(item.ref, item.tables))
    return row


def _head(item: CatalogItem | Document | Approval | Task) -> Row:
    """How every object's row starts: reference, version, deletion mark."""
    return {
        "Ref_Key": item.ref,
        "DataVersion": item.data_version,
        "DeletionMark": item.deletion_mark,
    }


def _numbered_head(item: Approval | Task, description: str) -> Row:
    """How a business process's or a task's row starts: the head, number, date, description."""
    return {**_head(item), "Number": item.number, "Date": item.date, "Description": description}


def _process_head(process: Approval, description: str) -> Row:
    """How a business process's row starts (`Согласование` and `Задание` alike)."""
    return {
        **_numbered_head(process, description),
        "Started": True,
        "Completed": process.state == "completed",
        "Предмет": process.subject,
        "Автор_Key": process.initiator,
    }


def approval_row(approval: Approval) -> Row:
    """A business process `Согласование` row, with its route as the `Маршрут` table."""
    return {
        **_process_head(approval, f"Согласование {approval.number}"),
        "Состояние": _APPROVAL_STATES[approval.state],
        "ТекущийЭтап": approval.current_stage,
        "КоличествоЭтапов": len(approval.route),
        "Маршрут": [
            {
                "Ref_Key": approval.ref,
                "LineNumber": stage.number,
                "НомерЭтапа": stage.number,
                "НаименованиеЭтапа": stage.name,
                "Исполнитель_Key": stage.performer,
            }
            for stage in approval.route
        ],
    }


def assignment_row(process: Approval) -> Row:
    """A БСП `BusinessProcess_Задание` row: its performer is a user or a role (composite)."""
    stage = process.route[0]
    performer = (
        Composite(stage.role, ROLES)
        if stage.role != EMPTY_REF
        else Composite(stage.performer, USERS)
    )
    return {
        **_process_head(process, process.title),
        "Исполнитель": performer,
        "Состояние": _APPROVAL_STATES[process.state],
        "Содержание": process.title,
    }


def performer_record_row(record: PerformerRecord) -> Row:
    """An `InformationRegister_ИсполнителиЗадач` record."""
    return {
        "РольИсполнителя_Key": record.role,
        "Исполнитель": Composite(record.user, USERS),
        "ОсновнойОбъектАдресации": record.main,
        "ДополнительныйОбъектАдресации": record.extra,
        "ГруппаИсполнителейЗадач_Key": record.group,
    }


def task_row(task: Task) -> Row:
    """A `Task_ЗадачаИсполнителя` row: the fields of design 5.3 and 5.5 plus the route's."""
    return {
        **_numbered_head(task, task.description),
        "Executed": task.executed,
        "BusinessProcess": Composite(task.approval, task.process_set),
        "RoutePoint": task.route_point,
        "Автор": Composite(task.author, USERS),
        "АвторСтрокой": task.author_name,
        "Важность": task.importance,
        "Исполнитель": Composite(task.performer, USERS)
        if task.performer != EMPTY_REF
        else Composite(EMPTY_REF),
        "РольИсполнителя_Key": task.role,
        "ОсновнойОбъектАдресации": task.main_object,
        "ДополнительныйОбъектАдресации": task.extra_object,
        "ГруппаИсполнителейЗадач_Key": task.group,
        "СостояниеБизнесПроцесса": task.process_state,
        "ПринятаКИсполнению": task.accepted,
        "ДатаПринятияКИсполнению": task.accepted_at,
        "Предмет": task.subject,
        "ПредметСтрокой": task.subject_name,
        "СрокИсполнения": task.due,
        "Описание": task.details,
        "РезультатВыполнения": task.result_text,
        "ДатаИсполнения": task.executed_at,
        "РешениеСогласования": task.decision_code,
        "НомерЭтапа": task.stage_number,
        "НаименованиеЭтапа": task.stage_name,
    }


def rows(ib: Infobase, set_name: str) -> list[Row]:
    """A snapshot of every row of an entity set, in insertion order."""
    with ib.lock:
        if set_name == TASKS:
            return [
                ib.cached_row(t.ref, t.data_version, _bind(task_row, t)) for t in ib.tasks.values()
            ]
        if set_name in (APPROVALS, ASSIGNMENTS):
            build = approval_row if set_name == APPROVALS else assignment_row
            return [
                ib.cached_row(a.ref, a.data_version, _bind(build, a))
                for a in ib.approvals.values()
                if a.set_name == set_name
            ]
        if set_name == PERFORMERS:
            return [performer_record_row(record) for record in ib.performers]
        if set_name.startswith("Document_"):
            documents = ib.documents.get(set_name, {}).values()
            return [ib.cached_row(d.ref, d.data_version, _bind(document_row, d)) for d in documents]
        items = ib.catalog(set_name).values()
        return [ib.cached_row(c.ref, c.data_version, _bind(catalog_row, c)) for c in items]


def row(ib: Infobase, set_name: str, ref: uuid.UUID) -> Row | None:
    """One row by key, or None."""
    with ib.lock:
        if set_name == TASKS:
            task = ib.tasks.get(ref)
            return task_row(task) if task else None
        if set_name in (APPROVALS, ASSIGNMENTS):
            approval = ib.approvals.get(ref)
            if approval is None or approval.set_name != set_name:
                return None
            return approval_row(approval) if set_name == APPROVALS else assignment_row(approval)
        if set_name.startswith("Document_"):
            document = ib.documents.get(set_name, {}).get(ref)
            return document_row(document) if document else None
        item = ib.catalog(set_name).get(ref)
        return catalog_row(item) if item else None


def presentation(ib: Infobase, set_name: str, ref: uuid.UUID) -> str:
    """What 1C shows for a reference: a description, a document title, '' when empty."""
    with ib.lock:
        if ref == EMPTY_REF:
            return ""
        if set_name == TASKS:
            task = ib.tasks.get(ref)
            return task.description if task else ""
        if set_name in (APPROVALS, ASSIGNMENTS):
            approval = ib.approvals.get(ref)
            if approval is None:
                return ""
            if approval.set_name == ASSIGNMENTS:
                return f"Задание {approval.number}: {approval.title}"
            return f"Согласование {approval.number}"
        if set_name.startswith("Document_"):
            document = ib.documents.get(set_name, {}).get(ref)
            return document_presentation(document) if document else ""
        item = ib.catalog(set_name).get(ref)
        return item.description if item else ""


def _bind(build: Callable[[_T], Row], entity: _T) -> Callable[[], Row]:
    return lambda: build(entity)


def _tables(owner: uuid.UUID, tables: dict[str, list[Row]]) -> Row:
    return {name: [{"Ref_Key": owner, **line} for line in lines] for name, lines in tables.items()}


def table_rows(ib: Infobase, owner_set: str, table: str) -> list[Row]:
    """Rows of a tabular section as an entity set of its own (`Ref_Key` + `LineNumber`)."""
    return [line for owner in rows(ib, owner_set) for line in owner.get(table) or []]
