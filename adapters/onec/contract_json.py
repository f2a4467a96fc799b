"""Tasks to and from the JSON shape of contract v1 (`Task` in design 5.4).

Used by `onec tasks --json`, the HTTP connector, and anything that keeps a task as JSON.
Parsing is strict: a field missing or of the wrong kind raises ValueError naming the field,
so an odd answer from 1C is reported, not half-read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    Person,
    Result,
    Stage,
    Subject,
    Table,
    Task,
    TaskKind,
    TaskState,
)

_E = TypeVar("_E", Importance, TaskState, TaskKind)


def task_to_dict(task: Task) -> dict[str, Any]:
    """The task as contract v1 JSON (RFC 3339 date-times)."""
    return {
        "id": task.id,
        "version": task.version,
        "number": task.number,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "importance": task.importance.value,
        "state": task.state.value,
        "title": task.title,
        "performer": _person_dict(task.performer),
        "initiator": {"id": task.initiator.id, "name": task.initiator.name},
        "stage": {
            "name": task.stage.name,
            "number": task.stage.number,
            "count": task.stage.count,
        },
        "subject": {
            "type": task.subject.type,
            "id": task.subject.id,
            "presentation": task.subject.presentation,
            "version": task.subject.version,
            "denied": None if task.subject.denied is None else {"reason": task.subject.denied},
            "fields": [{"name": f.name, "value": f.value} for f in task.subject.fields],
            "tables": [
                {"name": t.name, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                for t in task.subject.tables
            ],
        },
        "allowed_decisions": [d.value for d in task.allowed_decisions],
        "result": None
        if task.result is None
        else {
            "decision": task.result.decision.value,
            "comment": task.result.comment,
            "user_id": task.result.user_id,
            "at": task.result.at.isoformat(),
        },
        "kind": task.kind.value,
        "role": _person_dict(task.role),
        "candidates": [_person_dict(p) for p in task.candidates],
    }


def _person_dict(person: Person | None) -> dict[str, str] | None:
    return None if person is None else {"id": person.id, "name": person.name}


def task_from_dict(data: Any) -> Task:
    """Parse contract v1 JSON into a Task; ValueError names the first field that is wrong."""
    d = _mapping(data, "task")
    subject = _mapping(d.get("subject"), "subject")
    stage = _mapping(d.get("stage"), "stage")
    result = d.get("result")
    return Task(
        id=_str(d, "id"),
        version=_str(d, "version"),
        number=_str(d, "number"),
        created_at=_datetime(d, "created_at"),
        due_at=None if d.get("due_at") is None else _datetime(d, "due_at"),
        importance=_enum(Importance, d, "importance"),
        state=_enum(TaskState, d, "state"),
        title=_str(d, "title"),
        performer=_optional_person(d, "performer"),
        initiator=_person(d, "initiator"),
        stage=Stage(
            name=_str(stage, "name", "stage."),
            number=_int(stage, "number", "stage."),
            count=_int(stage, "count", "stage."),
        ),
        subject=Subject(
            type=_str(subject, "type", "subject."),
            id=_str(subject, "id", "subject."),
            presentation=_str(subject, "presentation", "subject."),
            version=_optional_str(subject, "version", "subject."),
            denied=_denied(subject),
            fields=tuple(
                Field(
                    name=_str(f, "name", "subject.fields[]."),
                    value=_str(f, "value", "subject.fields[]."),
                )
                for f in _list(subject, "fields", "subject.")
            ),
            tables=tuple(_table(t) for t in _list(subject, "tables", "subject.")),
        ),
        allowed_decisions=tuple(
            _decision(v, "allowed_decisions[]") for v in _list(d, "allowed_decisions")
        ),
        result=None if result is None else _result(_mapping(result, "result")),
        # Fields contract v1 servers leave out keep their v1 meaning (design 5.5): no kind is an
        # approval, no candidates means the performer alone decides.
        kind=_enum(TaskKind, d, "kind") if d.get("kind") is not None else TaskKind.APPROVAL,
        role=_optional_person(d, "role"),
        candidates=tuple(
            _person({"candidates[]": c}, "candidates[]")
            for c in _list(d, "candidates", optional=True)
        ),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _str(d: Mapping[str, Any], key: str, where: str = "") -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{where}{key}: expected a string, got {type(value).__name__}")
    return value


def _int(d: Mapping[str, Any], key: str, where: str = "") -> int:
    value = d.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{where}{key}: expected an integer, got {type(value).__name__}")
    return value


def _list(d: Mapping[str, Any], key: str, where: str = "", optional: bool = False) -> list[Any]:
    value = d.get(key)
    if optional and value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}{key}: expected a list, got {type(value).__name__}")
    return value


def _datetime(d: Mapping[str, Any], key: str, where: str = "") -> datetime:
    text = _str(d, key, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}{key}: not an RFC 3339 date-time: {text!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{where}{key}: date-time without a UTC offset: {text!r}")
    return parsed


def _enum(kind: type[_E], d: Mapping[str, Any], key: str) -> _E:
    text = _str(d, key)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValueError(f"{key}: {text!r} is not one of {allowed}") from None


def _decision(value: Any, where: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        allowed = ", ".join(m.value for m in Decision)
        raise ValueError(f"{where}: {value!r} is not one of {allowed}") from None


def _person(d: Mapping[str, Any], key: str) -> Person:
    p = _mapping(d.get(key), key)
    return Person(id=_str(p, "id", f"{key}."), name=_str(p, "name", f"{key}."))


def _optional_person(d: Mapping[str, Any], key: str) -> Person | None:
    return None if d.get(key) is None else _person(d, key)


def _optional_str(d: Mapping[str, Any], key: str, where: str = "") -> str:
    return "" if d.get(key) is None else _str(d, key, where)


def _denied(subject: Mapping[str, Any]) -> str | None:
    """`subject.denied`: null (or absent, in older servers) when shown, else `{reason}`."""
    if subject.get("denied") is None:
        return None
    denied = _mapping(subject["denied"], "subject.denied")
    return _str(denied, "reason", "subject.denied.")


def _table(value: Any) -> Table:
    t = _mapping(value, "subject.tables[]")
    where = "subject.tables[]."
    columns = tuple(str(c) for c in _list(t, "columns", where))
    rows = tuple(
        tuple(str(cell) for cell in _mapping_row(row, where)) for row in _list(t, "rows", where)
    )
    return Table(name=_str(t, "name", where), columns=columns, rows=rows)


def _mapping_row(row: Any, where: str) -> list[Any]:
    if not isinstance(row, list):
        raise ValueError(f"{where}rows[]: expected a list, got {type(row).__name__}")
    return row


def _result(r: Mapping[str, Any]) -> Result:
    return Result(
        decision=_decision(r.get("decision"), "result.decision"),
        comment=_str(r, "comment", "result."),
        user_id=_str(r, "user_id", "result."),
        at=_datetime(r, "at", "result."),
    )
