"""The control API: users, approvals, cancel, complete, documents and versions, reset, bulk."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.onec.client import SandboxError
from sandbox.onec.seed import SEED_USERS_BY_KEY


def test_users_lists_the_seed_with_logins_and_phones(onec: Any) -> None:
    users = {u["login"]: u for u in onec.client.users()}
    assert users["Администратор"]["name"] == "Администратор"
    assert users["ПетроваАС"]["phones"] == ["+79121112233", "+73432100001"]
    assert users["СидоровПН"]["phones"] == users["СидороваЕВ"]["phones"]
    assert users["КузнецоваМА"]["invalid"] is True
    assert users["ИвановИП"]["id"] == str(SEED_USERS_BY_KEY["ivanov"].ref)


def test_seed_is_the_same_after_a_reset(onec: Any) -> None:
    before = [(a["id"], [t["id"] for t in a["tasks"]]) for a in onec.client.approvals()]
    onec.client.reset()
    assert [(a["id"], [t["id"] for t in a["tasks"]]) for a in onec.client.approvals()] == before


def test_an_approval_starts_with_a_task_for_the_first_approver(onec: Any, users: Any) -> None:
    started = onec.client.create_approval(
        [users["Волков"]["id"]],
        users["Иванов"]["id"],
        {"Контрагент": "ООО «Новый поставщик»", "СуммаДокумента": "12.5"},
        document_type="ЗаявкаНаРасходованиеДенежныхСредств",
    )
    approval = onec.client.approvals(started["document_id"])[0]
    assert approval["tasks"][0]["id"] == started["task_id"]
    assert approval["route"][0]["performer"]["name"] == "Волков Сергей Александрович"
    task = onec.client.task(started["task_id"])
    assert {"name": "Контрагент", "value": "ООО «Новый поставщик»"} in task["subject"]["fields"]
    assert {"name": "Сумма", "value": "12,50"} in task["subject"]["fields"]


def test_a_report_instance_can_be_approved_too(onec: Any, users: Any) -> None:
    started = onec.client.create_approval(
        [users["Петрова"]["id"]],
        users["Иванов"]["id"],
        {"Показатели": [{"Показатель": "Выручка", "Значение": 100}]},
        document_type="ЭкземплярОтчета",
    )
    task = onec.client.task(started["task_id"])
    assert task["subject"]["type"] == "Document_ЭкземплярОтчета"
    assert task["subject"]["tables"][0]["rows"] == [["1", "Выручка", "100,00"]]


def test_bad_approval_requests_are_400(onec: Any, users: Any) -> None:
    with pytest.raises(SandboxError, match="400"):
        onec.client.create_approval(
            [users["Волков"]["id"]], users["Иванов"]["id"], document_type="Неизвестный"
        )
    with pytest.raises(SandboxError, match="400"):
        onec.client.create_approval(["not-a-guid"], users["Иванов"]["id"])


def test_complete_in_1c_moves_the_route_and_a_second_time_conflicts(onec: Any) -> None:
    task = next(t for t in onec.client.approvals()[0]["tasks"] if t["state"] == "pending")
    done = onec.client.complete_task(task["id"], comment="Согласовано в 1С")
    assert done["task"]["state"] == "completed" and done["next_task_id"]
    with pytest.raises(SandboxError, match="409"):
        onec.client.complete_task(task["id"])


def test_editing_a_document_makes_a_new_version_and_reports_its_tasks_updated(
    onec: Any, http: requests.Session
) -> None:
    approval = onec.client.approvals()[0]
    feed = onec.base_url + "/hs/approvals/v1/events"
    cursor = http.get(feed, params={"limit": 1000}, timeout=10).json()["cursor"]
    task_before = onec.client.task(approval["tasks"][0]["id"])
    edited = onec.client.edit_document(approval["document"]["id"], {"СуммаДокумента": 1300000})
    assert edited["version"] != approval["document"]["version"]
    task_after = onec.client.task(task_before["id"])
    assert task_after["version"] != task_before["version"]
    assert {"name": "Сумма", "value": "1 300 000,00"} in task_after["subject"]["fields"]
    events = http.get(feed, params={"after": cursor}, timeout=10).json()["events"]
    assert [(e["type"], e["task_id"]) for e in events] == [("updated", task_before["id"])]


def test_create_document_without_an_approval(onec: Any) -> None:
    created = onec.client.create_document(
        {"НазначениеПлатежа": "Без согласования", "СуммаДокумента": 1}
    )
    assert created["document_id"] and created["version"]
    with pytest.raises(SandboxError, match="404"):
        onec.client.approvals(created["document_id"])


def test_cancelling_a_document_without_a_running_approval_is_404(onec: Any) -> None:
    finished = next(a for a in onec.client.approvals() if a["state"] == "completed")
    with pytest.raises(SandboxError, match="404"):
        onec.client.cancel_approval(finished["document"]["id"])


def test_request_log_records_1c_calls_but_not_control_calls(
    onec: Any, http: requests.Session
) -> None:
    http.get(
        onec.base_url + "/odata/standard.odata/Catalog_Пользователи",
        params={"$format": "json"},
        timeout=10,
    )
    onec.client.users()
    log = onec.client.requests_log()
    assert [entry["path"] for entry in log] == ["/uh/odata/standard.odata/Catalog_Пользователи"]
    onec.client.clear_requests()
    assert onec.client.requests_log() == []
