"""Tasks survive the trip to contract v1 JSON and back; odd JSON is refused with the field named."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.onec.contract_json import task_from_dict, task_to_dict
from gateway.domain.tasks import (
    Decision,
    Importance,
    Person,
    Result,
    Table,
    Task,
    TaskKind,
)
from tests import factories

MSK = timezone(timedelta(hours=3))
PAYMENT_ROWS = Table(
    "Расшифровка платежа",
    ("№", "Статья", "Сумма"),
    (("1", "Аренда", "1 000 000,00"), ("2", "Связь", "250 000,00")),
)


def make_task(**changes: Any) -> Task:
    """The shared task using more of the contract: a GUID id, high importance, a table of
    two rows, every decision offered, performer p-1."""
    contract: dict[str, Any] = {
        "importance": Importance.HIGH,
        "performer": factories.make_person("p-1"),
        "tables": (PAYMENT_ROWS,),
        "allowed_decisions": tuple(Decision),
    }
    return factories.make_task(
        "6f1c1b9e-0000-4000-8000-000000000001", "AAAAAQAAAAA=", **{**contract, **changes}
    )


def test_a_task_round_trips_through_json_text() -> None:
    task = make_task(
        result=Result(Decision.APPROVE, "ок", "p-1", datetime(2026, 11, 28, 9, 0, tzinfo=MSK))
    )
    text = json.dumps(task_to_dict(task), ensure_ascii=False)
    assert task_from_dict(json.loads(text)) == task


def test_the_json_has_exactly_the_contract_fields() -> None:
    data = task_to_dict(make_task(due_at=None))
    assert list(data) == [
        "id", "version", "number", "created_at", "due_at", "importance", "state", "title",
        "performer", "initiator", "stage", "subject", "allowed_decisions", "result",
        "kind", "role", "candidates",
    ]  # fmt: skip
    assert data["created_at"] == "2026-11-27T10:15:00+03:00"
    assert data["due_at"] is None
    assert data["stage"] == {"name": "Финансовый контролер", "number": 2, "count": 3}
    assert data["subject"]["tables"][0]["rows"][1] == ["2", "Связь", "250 000,00"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("id"), "id: expected a string, got NoneType"),
        (
            lambda d: d.update(state="done"),
            "state: 'done' is not one of pending, completed, cancelled",
        ),
        (lambda d: d.update(created_at="27.11.2026"), "created_at: not an RFC 3339 date-time"),
        (
            lambda d: d.update(created_at="2026-11-27T10:15:00"),
            "created_at: date-time without a UTC offset",
        ),
        (lambda d: d["stage"].update(number="2"), "stage.number: expected an integer, got str"),
        (
            lambda d: d.update(allowed_decisions=["reject"]),
            "allowed_decisions[]: 'reject' is not one of",
        ),
        (lambda d: d["subject"].update(tables={}), "subject.tables: expected a list, got dict"),
        (lambda d: d.update(performer="Иванова"), "performer: expected an object, got str"),
    ],
)
def test_malformed_task_json_names_the_field(damage: Any, message: str) -> None:
    data = task_to_dict(make_task())
    damage(data)
    with pytest.raises(ValueError) as caught:
        task_from_dict(data)
    assert message in str(caught.value)


def test_decisions_that_need_a_reason_are_the_returns() -> None:
    assert [d for d in Decision if d.needs_reason] == [
        Decision.RETURN_PREVIOUS,
        Decision.RETURN_INITIATOR,
    ]
    assert make_task(allowed_decisions=(Decision.APPROVE,)).allows(Decision.APPROVE)
    assert not make_task(allowed_decisions=(Decision.APPROVE,)).allows(Decision.RETURN_PREVIOUS)


def test_a_role_task_round_trips_with_its_candidates_and_versions() -> None:
    task = make_task(
        performer=None,
        role=Person("r-1", "Финансовый директор"),
        candidates=(Person("p-1", "Иванова Мария Сергеевна"), Person("p-3", "Сидоров С. С.")),
        kind=TaskKind.TASK,
        subject=replace(make_task().subject, version="AAAAAgAAAAA="),
    )
    assert task_from_dict(json.loads(json.dumps(task_to_dict(task)))) == task
    assert task.may_decide("p-3") and not task.may_decide("p-2")
    assert task.addressee == "Финансовый директор"


def test_a_contract_v1_task_without_the_addressing_fields_keeps_its_v1_meaning() -> None:
    data = task_to_dict(make_task())
    for key in ("kind", "role", "candidates"):
        del data[key]
    del data["subject"]["version"]
    task = task_from_dict(data)
    assert task.is_approval
    assert task.deciders == (Person("p-1", "Иванова Мария Сергеевна"),)
    assert task.subject.version == ""


def test_a_candidate_without_a_name_is_refused_with_the_field_named() -> None:
    data = task_to_dict(make_task())
    data["candidates"] = [{"id": "p-9"}]
    with pytest.raises(ValueError, match=r"candidates\[\]\.name"):
        task_from_dict(data)


def test_a_withheld_document_round_trips_with_its_reason() -> None:
    reason = "Документ недоступен: у пользователя 1С «Иванова» нет права на чтение"
    task = make_task(subject=replace(make_task().subject, fields=(), tables=(), denied=reason))
    data = task_to_dict(task)
    assert data["subject"]["denied"] == {"reason": reason}
    assert task_from_dict(json.loads(json.dumps(data))) == task


def test_a_subject_without_denied_from_an_older_server_is_shown() -> None:
    data = task_to_dict(make_task())
    del data["subject"]["denied"]
    assert task_from_dict(data).subject.denied is None


def test_a_denied_without_a_reason_is_refused_with_the_field_named() -> None:
    data = task_to_dict(make_task())
    data["subject"]["denied"] = {}
    with pytest.raises(ValueError, match=r"subject\.denied\.reason"):
        task_from_dict(data)
