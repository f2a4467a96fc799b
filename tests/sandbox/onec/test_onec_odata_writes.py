"""Standard OData writes: partial PATCH with If-Match, ExecuteTask, Post, refused methods, codes."""

from __future__ import annotations

from typing import Any

TASKS = "Task_ЗадачаИсполнителя"
PAYMENT = "Document_ЗаявкаНаРасходованиеДенежныхСредств"


def _petrova_task(odata: Any, users: Any) -> dict[str, Any]:
    return odata.pending(users["Петрова"]["id"])[0]


def test_patch_is_partial_and_bumps_data_version(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    answer = odata.session.patch(
        odata.task_url(task["Ref_Key"]),
        json={"РезультатВыполнения": "Согласовано через Telegram"},
        headers={"If-Match": task["DataVersion"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert patched["РезультатВыполнения"] == "Согласовано через Telegram"
    assert patched["Description"] == task["Description"]
    assert patched["DataVersion"] != task["DataVersion"]


def test_patch_with_a_stale_if_match_answers_412_and_changes_nothing(
    odata: Any, users: Any
) -> None:
    task = _petrova_task(odata, users)
    url = odata.task_url(task["Ref_Key"])
    odata.session.patch(
        url, json={"Описание": "первое"}, headers={"If-Match": task["DataVersion"]}, timeout=30
    )
    stale = odata.session.patch(
        url, json={"Описание": "второе"}, headers={"If-Match": task["DataVersion"]}, timeout=30
    )
    assert stale.status_code == 412
    assert "odata.error" in stale.json()
    assert odata.entity(f"{TASKS}(guid'{task['Ref_Key']}')")["Описание"] == "первое"


def test_execute_task_twice_says_the_task_was_already_executed(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    first = odata.session.post(odata.task_url(task["Ref_Key"], "ExecuteTask"), timeout=30)
    second = odata.session.post(odata.task_url(task["Ref_Key"], "ExecuteTask"), timeout=30)
    assert first.status_code == 200
    assert second.status_code == 500
    assert odata.error(second) == ("-1", "Задача уже была выполнена ранее")


def test_execute_task_ignores_if_match(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    answer = odata.session.post(
        odata.task_url(task["Ref_Key"], "ExecuteTask"), headers={"If-Match": "stale"}, timeout=30
    )
    assert answer.status_code == 200


def test_execute_task_reads_the_decision_written_by_patch(odata: Any, users: Any) -> None:
    morozov = users["Морозов"]["id"]
    stage_two = next(t for t in odata.pending(morozov) if t["НомерЭтапа"] == 2)
    odata.session.patch(
        odata.task_url(stage_two["Ref_Key"]),
        json={
            "РешениеСогласования": "ВернутьНаПредыдущийЭтап",
            "РезультатВыполнения": "Уточните сумму",
        },
        headers={"If-Match": stage_two["DataVersion"]},
        timeout=30,
    )
    assert (
        odata.session.post(
            odata.task_url(stage_two["Ref_Key"], "ExecuteTask"), timeout=30
        ).status_code
        == 200
    )
    sidorov = odata.pending(users["Сидоров"]["id"])
    assert [(t["НомерЭтапа"], t["ПредметСтрокой"]) for t in sidorov] == [
        (1, stage_two["ПредметСтрокой"])
    ]


def test_an_unknown_or_unoffered_decision_fails_in_application_code(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    url = odata.task_url(task["Ref_Key"])
    odata.session.patch(url, json={"РешениеСогласования": "Отклонить"}, timeout=30)
    unknown = odata.session.post(url + "/ExecuteTask", timeout=30)
    assert odata.error(unknown)[0] == "-1"
    odata.session.patch(url, json={"РешениеСогласования": "ВернутьНаПредыдущийЭтап"}, timeout=30)
    first_stage = odata.session.post(url + "/ExecuteTask", timeout=30)
    assert odata.error(first_stage)[0] == "-1"
    assert "недоступно" in odata.error(first_stage)[1]


def test_post_action_posts_a_document(odata: Any) -> None:
    document = odata.rows(PAYMENT, **{"$top": "1"})[0]
    url = odata.url(f"{PAYMENT}(guid'{document['Ref_Key']}')")
    answer = odata.session.post(
        url + "/Post", params={"PostingModeOperational": "false"}, timeout=30
    )
    assert answer.status_code == 200
    posted = odata.entity(f"{PAYMENT}(guid'{document['Ref_Key']}')")
    assert posted["Posted"] is True and posted["DataVersion"] != document["DataVersion"]


def test_delete_is_refused_with_code_19(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    answer = odata.session.delete(odata.task_url(task["Ref_Key"]), timeout=30)
    assert answer.status_code == 405
    assert odata.error(answer)[0] == "19"
    assert odata.entity(f"{TASKS}(guid'{task['Ref_Key']}')")["DeletionMark"] is False


def test_unknown_function_is_code_21_and_no_rights_is_code_20(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    assert (
        odata.error(odata.session.post(odata.task_url(task["Ref_Key"], "Post"), timeout=30))[0]
        == "21"
    )
    user = users["Петрова"]["id"]
    answer = odata.session.patch(
        odata.url(f"Catalog_Пользователи(guid'{user}')"), json={"Description": "x"}, timeout=30
    )
    assert answer.status_code == 403 and odata.error(answer)[0] == "20"


def test_patch_of_an_unknown_or_read_only_field_is_code_14(odata: Any, users: Any) -> None:
    task = _petrova_task(odata, users)
    for body in ({"Нет": 1}, {"Executed": True}, {"Важность": "Срочно"}):
        answer = odata.session.patch(odata.task_url(task["Ref_Key"]), json=body, timeout=30)
        assert odata.error(answer)[0] == "14", body


def test_creating_a_document_with_an_existing_key_is_code_15(odata: Any) -> None:
    document = odata.rows(PAYMENT, **{"$top": "1"})[0]
    created = odata.session.post(
        odata.url(PAYMENT), json={"СуммаДокумента": 10, "НазначениеПлатежа": "Тест"}, timeout=30
    )
    assert created.status_code == 201 and created.json()["СуммаДокумента"] == 10
    duplicate = odata.session.post(
        odata.url(PAYMENT), json={"Ref_Key": document["Ref_Key"]}, timeout=30
    )
    assert odata.error(duplicate)[0] == "15"


def test_deletion_mark_on_a_pending_task_cancels_it(
    onec: Any, odata: Any, users: Any, http: Any
) -> None:
    task = _petrova_task(odata, users)
    cursor = http.get(
        onec.base_url + "/hs/approvals/v1/events", params={"limit": 1000}, timeout=30
    ).json()["cursor"]
    odata.session.patch(odata.task_url(task["Ref_Key"]), json={"DeletionMark": True}, timeout=30)
    feed = http.get(
        onec.base_url + "/hs/approvals/v1/events", params={"after": cursor}, timeout=30
    ).json()
    assert [(e["type"], e["task_id"]) for e in feed["events"]] == [("cancelled", task["Ref_Key"])]
