"""The contract-v1 `Task` shape built from the model (shared by the HTTP service, SOAP, control)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.onec.addressing import addressees, candidates, role_name
from sandbox.onec.documents import card_fields, card_tables, presentation
from sandbox.onec.model import (
    APPROVALS,
    EMPTY_DATE,
    EMPTY_REF,
    SERVER_TZ,
    Infobase,
    Task,
    task_state,
)
from sandbox.onec.routing import allowed_decisions

IMPORTANCE = {"Обычная": "normal", "Высокая": "high", "Низкая": "low"}


def rfc3339(value: datetime) -> str:
    """A server-local date as RFC 3339 with the server's offset (+03:00)."""
    return value.replace(tzinfo=SERVER_TZ).isoformat()


def access_denied(ib: Infobase, task: Task) -> str | None:
    """Why the task's document is not shown, as the extension says it; None when every user the
    task is addressed to may read it (the extension's УправлениеДоступом.ЧтениеРазрешено)."""
    denied = ib.read_denied.get(task.subject.ref, set())
    for user in addressees(ib, task):
        if user in denied:
            return (
                "Документ недоступен: у пользователя 1С "
                f"«{ib.user_name(user)}» нет права на чтение этого документа"
            )
    return None


def task_json(ib: Infobase, task: Task) -> dict[str, Any]:
    """The task as contract v1 describes it."""
    with ib.lock:
        approval = ib.approvals.get(task.approval)
        document = ib.find_document(task.subject.ref)
        state = task_state(task, approval)
        count = len(approval.route) if approval else 1
        subject: dict[str, Any] = {
            "type": task.subject.set_name,
            "id": str(task.subject.ref),
            "presentation": presentation(document) if document else task.subject_name,
            "fields": [],
            "tables": [],
        }
        denied = access_denied(ib, task)
        if document is not None and denied is None:
            settings = ib.card_settings.get(document.set_name)
            fields = card_fields(ib, document, settings.fields if settings else None)
            subject["fields"] = [{"name": n, "value": v} for n, v in fields]
            subject["tables"] = [
                {"name": name, "columns": columns, "rows": rows}
                for name, columns, rows in card_tables(
                    ib, document, settings.tables if settings else None
                )
            ]
        subject["version"] = document.data_version if document else ""
        subject["denied"] = None if denied is None else {"reason": denied}
        result = None
        if task.executed and task.decision is not None:
            result = {
                "decision": task.decision,
                "comment": task.result_text,
                "user_id": str(task.decided_by or task.performer),
                "at": rfc3339(task.executed_at),
            }
        return {
            "id": str(task.ref),
            "version": f"{task.data_version}.{document.data_version if document else ''}",
            "number": task.number,
            "created_at": rfc3339(task.date),
            "due_at": None if task.due == EMPTY_DATE else rfc3339(task.due),
            "importance": IMPORTANCE.get(task.importance, "normal"),
            "state": state,
            "title": task.description,
            "performer": None
            if task.performer == EMPTY_REF
            else {"id": str(task.performer), "name": ib.user_name(task.performer)},
            "initiator": {"id": str(task.author), "name": ib.user_name(task.author)},
            "stage": {"name": task.stage_name, "number": task.stage_number, "count": count},
            "subject": subject,
            "allowed_decisions": allowed_decisions(task) if state == "pending" else [],
            "result": result,
            # Contract 5.5 additions come last: the WSDL's sequence has them at its end.
            "kind": "approval" if task.process_set == APPROVALS else "task",
            "role": None
            if task.role == EMPTY_REF
            else {"id": str(task.role), "name": role_name(ib, task.role)},
            "candidates": [
                {"id": str(user), "name": ib.user_name(user)} for user in candidates(ib, task)
            ]
            if state == "pending"
            else [],
        }
