"""БСП addressing in the emulator: roles, the register ИсполнителиЗадач, stop, execution rules."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.onec import contract

PAYMENT = "ЗаявкаНаРасходованиеДенежныхСредств"
EMPTY = "00000000-0000-0000-0000-000000000000"
USERS_TYPE = "StandardODATA.Catalog_Пользователи"
STOPPED_TEXT = "Нельзя выполнять задачи остановленных бизнес-процессов."


@pytest.fixture
def trio_role(onec: Any, people: dict[str, str]) -> str:
    """A role performed by Петрова, Морозов and Волков, for no organization in particular."""
    performers = [{"user": people[name]} for name in ("Петрова", "Морозов", "Волков")]
    return str(onec.client.create_role("Казначей", performers))


def _start_for_role(onec: Any, people: dict[str, str], role: str, **fields: Any) -> dict[str, Any]:
    return dict(
        onec.client.create_approval(
            [{"role": role}, people["Волков"]],
            people["Иванов"],
            {"СуммаДокумента": 5000, "НазначениеПлатежа": "Аренда", **fields},
        )
    )


def _task_row(odata: Any, task_id: str) -> dict[str, Any]:
    return dict(odata.entity(f"Task_ЗадачаИсполнителя(guid'{task_id}')"))


def _hs(onec: Any, http: requests.Session, method: str, path: str, **kwargs: Any) -> Any:
    return http.request(method, f"{onec.base_url}/hs/approvals/v1{path}", timeout=30, **kwargs)


def _decide(onec: Any, http: requests.Session, task_id: str, user: str, **extra: Any) -> Any:
    body = {"decision": "approve", "comment": "ок", "user_id": user, "idempotency_key": None}
    body.update(extra)
    body["idempotency_key"] = body["idempotency_key"] or f"{task_id}:{user}:{sorted(extra)}"
    return _hs(onec, http, "POST", f"/tasks/{task_id}/decision", json=body)


def test_a_role_task_has_an_empty_performer_and_the_group_its_register_records_share(
    onec: Any, odata: Any, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    task = _task_row(odata, started["task_id"])
    assert (task["Исполнитель"], task["Исполнитель_Type"]) == (EMPTY, "StandardODATA.Undefined")
    assert task["РольИсполнителя_Key"] == trio_role
    assert task["ОсновнойОбъектАдресации"] == EMPTY
    assert task["СостояниеБизнесПроцесса"] == "Активен"
    assert task["ПринятаКИсполнению"] is False
    assert task["ДатаПринятияКИсполнению"] == "0001-01-01T00:00:00"
    records = odata.rows(
        "InformationRegister_ИсполнителиЗадач",
        **{"$filter": f"РольИсполнителя_Key eq guid'{trio_role}'"},
    )
    assert {r["Исполнитель"] for r in records} == {
        people["Петрова"],
        people["Морозов"],
        people["Волков"],
    }
    assert {r["Исполнитель_Type"] for r in records} == {USERS_TYPE}
    assert {r["ГруппаИсполнителейЗадач_Key"] for r in records} == {
        task["ГруппаИсполнителейЗадач_Key"]
    }
    group = odata.entity(
        f"Catalog_ГруппыИсполнителейЗадач(guid'{task['ГруппаИсполнителейЗадач_Key']}')"
    )
    assert group["РольИсполнителя_Key"] == trio_role
    assert odata.entity(f"Catalog_РолиИсполнителей(guid'{trio_role}')")["Description"] == "Казначей"


def test_a_role_with_organizations_addresses_the_task_by_the_documents_organization(
    onec: Any, odata: Any, people: dict[str, str]
) -> None:
    organizations = {o["Description"]: o["Ref_Key"] for o in odata.rows("Catalog_Организации")}
    role = onec.client.create_role(
        "Директор по закупкам",
        [
            {"user": people["Волков"], "organization": "АО «Уральский холдинг»"},
            {"user": people["Морозов"], "organization": "ООО «Уральская сталь»"},
        ],
    )
    started = _start_for_role(onec, people, role, Организация="ООО «Уральская сталь»")
    task = _task_row(odata, started["task_id"])
    assert task["ОсновнойОбъектАдресации"] == organizations["ООО «Уральская сталь»"]
    assert task["ОсновнойОбъектАдресации_Type"] == "StandardODATA.Catalog_Организации"
    same_group = odata.rows(
        "InformationRegister_ИсполнителиЗадач",
        **{
            "$filter": f"ГруппаИсполнителейЗадач_Key eq guid'{task['ГруппаИсполнителейЗадач_Key']}'"
        },
    )
    assert [r["Исполнитель"] for r in same_group] == [people["Морозов"]]
    assert [c["id"] for c in onec.client.task(started["task_id"])["candidates"]] == [
        people["Морозов"]
    ]


def test_executing_a_role_task_over_odata_records_the_signed_in_user_as_performer(
    onec: Any, odata: Any, people: dict[str, str], trio_role: str, users: Any
) -> None:
    started = _start_for_role(onec, people, trio_role)
    answer = odata.session.post(odata.task_url(started["task_id"], "ExecuteTask"), timeout=30)
    assert answer.status_code == 200, answer.text
    task = _task_row(odata, started["task_id"])
    assert (task["Исполнитель"], task["Исполнитель_Type"]) == (users["Шлюз"]["id"], USERS_TYPE)
    assert task["Executed"] is True
    assert task["ПринятаКИсполнению"] is True
    assert task["ДатаПринятияКИсполнению"] != "0001-01-01T00:00:00"


def test_patching_the_performer_under_if_match_before_executing_shows_the_real_approver(
    onec: Any, odata: Any, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    shown = _task_row(odata, started["task_id"])
    take = {
        "Исполнитель": people["Морозов"],
        "Исполнитель_Type": USERS_TYPE,
        "ПринятаКИсполнению": True,
    }
    url = odata.task_url(started["task_id"])
    first = odata.session.patch(url, json=take, headers={"If-Match": shown["DataVersion"]})
    assert first.status_code == 200, first.text
    assert first.json()["ПринятаКИсполнению"] is True
    assert first.json()["ДатаПринятияКИсполнению"] != "0001-01-01T00:00:00"
    rival = {**take, "Исполнитель": people["Петрова"]}
    second = odata.session.patch(url, json=rival, headers={"If-Match": shown["DataVersion"]})
    assert second.status_code == 412
    odata.session.post(odata.task_url(started["task_id"], "ExecuteTask"), timeout=30)
    task = _task_row(odata, started["task_id"])
    assert (task["Исполнитель"], task["Executed"]) == (people["Морозов"], True)
    assert onec.client.task(started["task_id"])["result"]["user_id"] == people["Морозов"]


def test_the_performer_is_written_only_with_its_type_and_only_as_a_user(
    odata: Any, people: dict[str, str]
) -> None:
    task = odata.pending(people["Петрова"])[0]
    url = odata.task_url(task["Ref_Key"])
    alone = odata.session.patch(url, json={"Исполнитель": people["Морозов"]}, timeout=30)
    wrong = odata.session.patch(
        url,
        json={"Исполнитель": people["Морозов"], "Исполнитель_Type": "StandardODATA.Catalog_Валюты"},
        timeout=30,
    )
    assert odata.error(alone)[0] == "14"
    assert odata.error(wrong)[0] == "14"
    assert _task_row(odata, task["Ref_Key"])["Исполнитель"] == people["Петрова"]


def test_stopping_a_process_marks_its_open_tasks_stopped_not_deleted_and_execution_fails(
    onec: Any, odata: Any, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    assert onec.client.stop_process(started["approval_id"]) == [started["task_id"]]
    task = _task_row(odata, started["task_id"])
    assert (task["СостояниеБизнесПроцесса"], task["DeletionMark"]) == ("Остановлен", False)
    process = odata.entity(f"BusinessProcess_Согласование(guid'{started['approval_id']}')")
    assert process["Состояние"] == "Остановлен"
    answer = odata.session.post(odata.task_url(started["task_id"], "ExecuteTask"), timeout=30)
    assert answer.status_code == 500
    assert odata.error(answer) == ("-1", STOPPED_TEXT)
    assert onec.client.task(started["task_id"])["state"] == "cancelled"


def test_the_odata_stop_action_stops_a_process_the_same_way_and_the_feed_says_cancelled(
    onec: Any, odata: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = odata.pending(people["Петрова"])[0]
    process = task["BusinessProcess"]
    cursor = _hs(onec, http, "GET", "/events", params={"limit": 1000}).json()["cursor"]
    answer = odata.session.post(
        odata.url(f"BusinessProcess_Согласование(guid'{process}')/Stop"), timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert _task_row(odata, task["Ref_Key"])["СостояниеБизнесПроцесса"] == "Остановлен"
    events = _hs(onec, http, "GET", "/events", params={"after": cursor}).json()["events"]
    assert [(e["type"], e["task_id"]) for e in events] == [("cancelled", task["Ref_Key"])]
    again = odata.session.post(
        odata.url(f"BusinessProcess_Согласование(guid'{process}')/Stop"), timeout=30
    )
    assert odata.error(again) == ("-1", "Бизнес-процесс уже остановлен.")


def test_a_zadanie_is_a_task_of_another_process_type_that_the_service_refuses_to_decide(
    onec: Any, odata: Any, http: requests.Session, people: dict[str, str], trio_role: str
) -> None:
    for_user = onec.client.create_assignment("Ознакомиться с приказом", people["Петрова"])
    for_role = onec.client.create_assignment("Подготовить сверку", {"role": trio_role})
    row = _task_row(odata, for_user["task_id"])
    assert row["BusinessProcess_Type"] == "StandardODATA.BusinessProcess_Задание"
    assert row["BusinessProcess"] == for_user["process_id"]
    assert (row["Исполнитель"], row["Предмет"]) == (people["Петрова"], EMPTY)
    assert _task_row(odata, for_role["task_id"])["РольИсполнителя_Key"] == trio_role
    processes = odata.rows("BusinessProcess_Задание")
    assert {p["Ref_Key"] for p in processes} == {for_user["process_id"], for_role["process_id"]}
    assert all(
        p["Ref_Key"] != for_user["process_id"] for p in odata.rows("BusinessProcess_Согласование")
    )
    task = _hs(onec, http, "GET", f"/tasks/{for_user['task_id']}").json()
    assert (task["kind"], task["allowed_decisions"]) == ("task", [])
    assert contract.errors(task, contract.schema("Task")) == []
    refused = _decide(onec, http, for_user["task_id"], people["Петрова"])
    assert (refused.status_code, refused.json()["error"]) == (422, "invalid")
    executed = odata.session.post(odata.task_url(for_user["task_id"], "ExecuteTask"), timeout=30)
    assert executed.status_code == 200
    assert odata.entity(f"BusinessProcess_Задание(guid'{for_user['process_id']}')")["Completed"]


def test_the_service_gives_a_role_tasks_role_and_candidates_and_no_performer(
    onec: Any, http: requests.Session, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    task = _hs(onec, http, "GET", f"/tasks/{started['task_id']}").json()
    assert contract.errors(task, contract.schema("Task")) == []
    assert task["kind"] == "approval"
    assert task["performer"] is None
    assert task["role"] == {"id": trio_role, "name": "Казначей"}
    assert [c["id"] for c in task["candidates"]] == [
        people["Петрова"],
        people["Морозов"],
        people["Волков"],
    ]
    assert task["subject"]["version"] == task["version"].split(".", 1)[1]
    listed = _hs(onec, http, "GET", "/tasks", params={"limit": 1000}).json()["tasks"]
    assert any(t["id"] == started["task_id"] and t["performer"] is None for t in listed)


def test_a_role_task_is_decided_by_a_candidate_only_and_that_user_becomes_its_performer(
    onec: Any, odata: Any, http: requests.Session, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    outsider = _decide(onec, http, started["task_id"], people["Сидоров"])
    assert (outsider.status_code, outsider.json()["error"]) == (403, "not_performer")
    decided = _decide(onec, http, started["task_id"], people["Морозов"])
    assert decided.status_code == 200, decided.text
    task = decided.json()
    assert task["performer"]["id"] == people["Морозов"]
    assert task["result"]["user_id"] == people["Морозов"]
    row = _task_row(odata, started["task_id"])
    assert (row["Исполнитель"], row["ПринятаКИсполнению"]) == (people["Морозов"], True)
    late = _decide(onec, http, started["task_id"], people["Петрова"])
    assert (late.status_code, late.json()["error"]) == (409, "already_completed")
    assert late.json()["task"]["performer"]["id"] == people["Морозов"]


def test_a_role_task_taken_by_one_candidate_is_no_longer_the_others_to_decide(
    onec: Any, odata: Any, http: requests.Session, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    shown = _task_row(odata, started["task_id"])
    taken = odata.session.patch(
        odata.task_url(started["task_id"]),
        json={
            "Исполнитель": people["Волков"],
            "Исполнитель_Type": USERS_TYPE,
            "ПринятаКИсполнению": True,
        },
        headers={"If-Match": shown["DataVersion"]},
        timeout=30,
    )
    assert taken.status_code == 200
    task = onec.client.task(started["task_id"])
    assert ([c["id"] for c in task["candidates"]], task["role"]["id"]) == (
        [people["Волков"]],
        trio_role,
    )
    other = _decide(onec, http, started["task_id"], people["Петрова"])
    assert (other.status_code, other.json()["error"]) == (403, "not_performer")
    assert _decide(onec, http, started["task_id"], people["Волков"]).status_code == 200


def test_a_decision_on_versions_older_than_the_task_or_document_is_stale(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = next(
        t
        for t in _hs(onec, http, "GET", "/tasks").json()["tasks"]
        if t["performer"] and t["performer"]["id"] == people["Петрова"]
    )
    onec.client.edit_document(task["subject"]["id"], {"СуммаДокумента": 999})
    by_subject = _decide(
        onec,
        http,
        task["id"],
        people["Петрова"],
        expected_subject_version=task["subject"]["version"],
    )
    assert by_subject.status_code == 409
    assert by_subject.json()["error"] == "stale"
    assert contract.errors(by_subject.json(), contract.schema("Stale")) == []
    assert by_subject.json()["task"]["subject"]["version"] != task["subject"]["version"]
    by_task = _decide(onec, http, task["id"], people["Петрова"], expected_version=task["version"])
    assert (by_task.status_code, by_task.json()["error"]) == (409, "stale")
    assert onec.client.task(task["id"])["state"] == "pending"
    current = onec.client.task(task["id"])
    fresh = _decide(
        onec,
        http,
        task["id"],
        people["Петрова"],
        expected_version=current["version"],
        expected_subject_version=current["subject"]["version"],
    )
    assert fresh.status_code == 200, fresh.text


def test_a_refusal_by_1c_code_is_422_refused_over_http_and_an_exception_over_odata(
    onec: Any, odata: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = odata.pending(people["Петрова"])[0]
    text = "Превышен лимит бюджета по статье «Оплата поставщикам»"
    onec.client.set_refusal(task["Предмет"], text)
    refused = _decide(onec, http, task["Ref_Key"], people["Петрова"])
    assert refused.status_code == 422
    assert refused.json() == {"error": "refused", "message": text}
    executed = odata.session.post(odata.task_url(task["Ref_Key"], "ExecuteTask"), timeout=30)
    assert executed.status_code == 500
    assert odata.error(executed) == ("-1", text)
    assert _task_row(odata, task["Ref_Key"])["Executed"] is False
    onec.client.set_refusal(task["Предмет"], None)
    again = _decide(onec, http, task["Ref_Key"], people["Петрова"], idempotency_key="again")
    assert again.status_code == 200


def test_a_register_change_feeds_updated_for_the_role_tasks_whose_candidates_changed(
    onec: Any, http: requests.Session, people: dict[str, str], trio_role: str
) -> None:
    started = _start_for_role(onec, people, trio_role)
    cursor = _hs(onec, http, "GET", "/events", params={"limit": 1000}).json()["cursor"]
    changed = onec.client.set_role_performers(
        trio_role, [{"user": people["Петрова"]}, {"user": people["Сидорова"]}]
    )
    assert changed == [started["task_id"]]
    events = _hs(onec, http, "GET", "/events", params={"after": cursor}).json()["events"]
    assert [(e["type"], e["task_id"]) for e in events] == [("updated", started["task_id"])]
    task = onec.client.task(started["task_id"])
    assert [c["id"] for c in task["candidates"]] == [people["Петрова"], people["Сидорова"]]
    assert (
        onec.client.set_role_performers(
            trio_role, [{"user": people["Сидорова"]}, {"user": people["Петрова"]}]
        )
        == []
    )


def test_users_groups_publish_their_members_in_the_sostav_table(
    onec: Any, odata: Any, people: dict[str, str]
) -> None:
    group = onec.client.create_user_group("Согласующие филиала", [people["Морозов"]])
    before = odata.entity(f"Catalog_ГруппыПользователей(guid'{group}')")
    assert [r["Пользователь_Key"] for r in before["Состав"]] == [people["Морозов"]]
    onec.client.set_group_members(group, [people["Морозов"], people["Волков"]])
    after = odata.rows(
        "Catalog_ГруппыПользователей", **{"$filter": "Description eq 'Согласующие филиала'"}
    )[0]
    assert [r["Пользователь_Key"] for r in after["Состав"]] == [people["Морозов"], people["Волков"]]
    assert after["DataVersion"] != before["DataVersion"]
    rows = odata.rows(
        "Catalog_ГруппыПользователей_Состав", **{"$filter": f"Ref_Key eq guid'{group}'"}
    )
    assert [(r["LineNumber"], r["Пользователь_Key"]) for r in rows] == [
        ("1", people["Морозов"]),
        ("2", people["Волков"]),
    ]
    seeded = {g["name"] for g in onec.client.user_groups()}
    assert {"Пользователи Telegram", "Администраторы Telegram"} <= seeded


def test_bulk_approvals_can_be_addressed_to_a_role(onec: Any, odata: Any, trio_role: str) -> None:
    onec.client.bulk_seed(3, role=trio_role)
    rows = odata.rows(
        "Task_ЗадачаИсполнителя",
        **{"$filter": f"РольИсполнителя_Key eq guid'{trio_role}' and Executed eq false"},
    )
    assert len(rows) == 3
    assert {r["Исполнитель"] for r in rows} == {EMPTY}
