"""The 1C connectors over HTTP against the 1C emulator: reads, users, decisions, faults, parity.

Each test runs once per connector (`odata` with the `sandbox` profile, `http`, `soap`); the
settings test wires them by `gateway.bootstrap.build_onec` as in production.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.onec import (
    HttpServiceConnector,
    ODataConnector,
    OneCSession,
    SoapConnector,
    load_profile,
)
from adapters.onec.contract_json import task_to_dict
from gateway.bootstrap import build_onec
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import Decision, Person, Task, TaskState
from gateway.errors import (
    AlreadyCompleted,
    AuthenticationFailed,
    MalformedAnswer,
    NotFound,
    NotPerformer,
    Refused,
    StaleDecision,
    UpstreamApplicationError,
    UpstreamUnavailable,
)
from gateway.ports.onec import OneC
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox

CONNECTORS = ["odata", "http", "soap"]


def make(
    onec: RunningSandbox,
    kind: str,
    *,
    page_size: int = 2,
    timeout: float = 5,
    password: str | None = None,
) -> OneC:
    """A connector with small pages, so every listing spans several."""
    session = OneCSession(
        username=onec.config.user,
        password=onec.config.password if password is None else password,
        timeout=timeout,
    )
    if kind == "soap":
        return SoapConnector(
            session,
            f"{onec.base_url}/ws/approvals?wsdl",
            f"{onec.base_url}/ws/approvals",
            page_size=page_size,
        )
    if kind == "http":
        return HttpServiceConnector(
            session, f"{onec.base_url}/hs/approvals/v1", page_size=page_size
        )
    profile = dataclasses.replace(load_profile("sandbox"), page_size=page_size)
    return ODataConnector(session, onec.base_url, profile)


def close(connector: OneC) -> None:
    """Close the HTTP session of a connector `make` built (the port has no close)."""
    assert isinstance(connector, ODataConnector | HttpServiceConnector | SoapConnector)
    connector._session.close()


@pytest.fixture(params=CONNECTORS)
def connector(request: pytest.FixtureRequest, onec: RunningSandbox) -> Iterator[OneC]:
    instance = make(onec, request.param)
    yield instance
    close(instance)


def user_id(onec: RunningSandbox, surname: str) -> str:
    return str(onec.client.user(surname)["id"])


def performer(task: Task) -> Person:
    """The task's performer; these tasks are addressed to a person."""
    assert task.performer is not None, f"task {task.id} has no performer"
    return task.performer


def decide(
    connector: OneC, task: Task, decision: Decision, comment: str = "", key: str = "press-1"
) -> Task:
    return connector.submit_decision(
        DecisionRequest(
            task_id=task.id,
            decision=decision,
            comment=comment,
            user_id=performer(task).id,
            user_name=performer(task).name,
            idempotency_key=key,
            requested_at=datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
        )
    )


def start_approval(onec: RunningSandbox, route: list[str], **fields: Any) -> str:
    created = onec.client.create_approval(
        route=[user_id(onec, s) for s in route],
        initiator=user_id(onec, "Иванов"),
        fields={
            "СуммаДокумента": "1250000.00",
            "НазначениеПлатежа": "Оплата по договору",
            **fields,
        },
    )
    return str(created["task_id"])


# --- reading ------------------------------------------------------------------------------------


def test_all_pending_tasks_are_listed_across_pages(connector: OneC, onec: RunningSandbox) -> None:
    expected = {
        t["id"] for a in onec.client.approvals() for t in a["tasks"] if t["state"] == "pending"
    }
    tasks = list(connector.pending_tasks())
    assert len(expected) > 2  # more than one page of 2
    assert {t.id for t in tasks} == expected
    assert all(t.state is TaskState.PENDING for t in tasks)


def test_a_task_carries_its_document_with_fields_and_tables(
    connector: OneC, onec: RunningSandbox
) -> None:
    task_id = start_approval(onec, ["Морозов", "Волков"])
    task = connector.get_task(task_id)
    assert performer(task).name == "Морозов Дмитрий Олегович"
    assert task.initiator.name == "Иванов Иван Петрович"
    assert (task.stage.number, task.stage.count) == (1, 2)
    assert task.subject.type == "Document_ЗаявкаНаРасходованиеДенежныхСредств"
    fields = dict((f.name, f.value) for f in task.subject.fields)
    assert fields["Сумма"] == "1 250 000,00"
    assert fields["Назначение платежа"] == "Оплата по договору"
    assert task.subject.tables and task.subject.tables[0].columns[0] == "№"
    assert task.allowed_decisions == (Decision.APPROVE, Decision.RETURN_INITIATOR)


def test_an_unknown_task_is_not_found(connector: OneC) -> None:
    with pytest.raises(NotFound):
        connector.get_task("6f1c1b9e-0000-4000-8000-000000000099")


# --- users --------------------------------------------------------------------------------------


def test_users_are_found_by_any_spelling_of_their_phone(connector: OneC) -> None:
    for spelling in ("+7 (912) 345-67-89", "89123456789", "79123456789"):
        assert [u.name for u in connector.find_users_by_phone(spelling)] == ["Иванов Иван Петрович"]


def test_a_user_with_two_phones_is_found_by_either(connector: OneC) -> None:
    assert [u.name for u in connector.find_users_by_phone("+7 (343) 210-00-01")] == [
        "Петрова Анна Сергеевна"
    ]
    assert [u.name for u in connector.find_users_by_phone("+7 912 111-22-33")] == [
        "Петрова Анна Сергеевна"
    ]


def test_two_users_sharing_a_phone_are_both_returned(connector: OneC) -> None:
    names = sorted(u.name for u in connector.find_users_by_phone("+7 (922) 555-44-33"))
    assert names == ["Сидоров Павел Николаевич", "Сидорова Елена Викторовна"]


def test_invalid_and_deleted_users_and_unknown_phones_find_nobody(connector: OneC) -> None:
    assert connector.find_users_by_phone("+7 (900) 100-20-30") == []  # Недействителен
    assert connector.find_users_by_phone("+7 (912) 000-00-01") == []  # deletion mark
    assert connector.find_users_by_phone("+7 (999) 000-00-00") == []


# --- decisions ----------------------------------------------------------------------------------


def test_approval_moves_the_route_to_the_next_stage(connector: OneC, onec: RunningSandbox) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    done = decide(connector, task, Decision.APPROVE, "Согласовано, бюджет есть")
    assert done.state is TaskState.COMPLETED
    assert done.result is not None and done.result.decision is Decision.APPROVE
    assert "Согласовано, бюджет есть" in done.result.comment
    pending = [t for t in connector.pending_tasks() if t.subject.id == task.subject.id]
    assert [(performer(t).name, t.stage.number) for t in pending] == [
        ("Волков Сергей Александрович", 2)
    ]


def test_return_to_the_previous_stage_gives_the_previous_approver_a_task(
    connector: OneC, onec: RunningSandbox
) -> None:
    first = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    decide(connector, first, Decision.APPROVE)
    second = next(t for t in connector.pending_tasks() if t.subject.id == first.subject.id)
    assert Decision.RETURN_PREVIOUS in second.allowed_decisions
    decide(connector, second, Decision.RETURN_PREVIOUS, "Уточните сумму", key="press-2")
    again = [t for t in connector.pending_tasks() if t.subject.id == first.subject.id]
    assert [(performer(t).name, t.stage.number) for t in again] == [("Морозов Дмитрий Олегович", 1)]


def test_return_to_the_initiator_gives_the_initiator_a_rework_task(
    connector: OneC, onec: RunningSandbox
) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов"]))
    decide(connector, task, Decision.RETURN_INITIATOR, "Нет договора")
    rework = [t for t in connector.pending_tasks() if t.subject.id == task.subject.id]
    assert [(performer(t).name, t.stage.number, t.allowed_decisions) for t in rework] == [
        ("Иванов Иван Петрович", 0, (Decision.APPROVE,))
    ]


def test_the_same_press_twice_is_applied_once(connector: OneC, onec: RunningSandbox) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    first = decide(connector, task, Decision.APPROVE, key="press-same")
    second = decide(connector, task, Decision.APPROVE, key="press-same")
    assert first.state is second.state is TaskState.COMPLETED
    approval = onec.client.approvals(task.subject.id)[0]
    assert [t["stage"] for t in approval["tasks"]] == [1, 2]  # moved on exactly once


def test_a_decision_on_a_task_done_in_1c_is_already_completed(
    connector: OneC, onec: RunningSandbox
) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    onec.client.complete_task(task.id)
    with pytest.raises(AlreadyCompleted) as caught:
        decide(connector, task, Decision.APPROVE)
    assert caught.value.task is not None and caught.value.task.state is TaskState.COMPLETED


def test_a_decision_on_a_cancelled_approval_is_already_completed_as_cancelled(
    connector: OneC, onec: RunningSandbox
) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов"]))
    onec.client.cancel_approval(task.subject.id)
    assert connector.get_task(task.id).state is TaskState.CANCELLED
    assert task.id not in {t.id for t in connector.pending_tasks()}
    with pytest.raises(AlreadyCompleted) as caught:
        decide(connector, task, Decision.APPROVE)
    assert caught.value.task is not None and caught.value.task.state is TaskState.CANCELLED


def decide_as_shown(connector: OneC, card: Task, key: str = "press-shown") -> Task:
    """The performer's approval, carrying the versions the card `card` showed (design 6.12)."""
    return connector.submit_decision(
        DecisionRequest(
            task_id=card.id,
            decision=Decision.APPROVE,
            comment="",
            user_id=performer(card).id,
            user_name=performer(card).name,
            idempotency_key=key,
            requested_at=datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
            expected_version=card.version,
            expected_subject_version=card.subject.version,
        )
    )


def test_a_decision_carrying_the_versions_its_card_showed_is_applied(
    connector: OneC, onec: RunningSandbox
) -> None:
    card = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    assert card.subject.version
    assert decide_as_shown(connector, card).state is TaskState.COMPLETED


def test_a_decision_on_a_document_edited_since_its_card_is_stale_and_writes_nothing(
    connector: OneC, onec: RunningSandbox
) -> None:
    card = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    onec.client.edit_document(card.subject.id, {"СуммаДокумента": "2500000.00"})
    onec.client.clear_requests()
    with pytest.raises(StaleDecision) as caught:
        decide_as_shown(connector, card)
    current = caught.value.task
    assert current is not None and current.is_pending
    assert current.subject.version not in ("", card.subject.version)
    assert not caught.value.retryable
    approval = onec.client.approvals(card.subject.id)[0]
    assert [t["decision"] for t in approval["tasks"]] == [None]
    assert [r for r in onec.client.requests_log() if r["method"] == "PATCH"] == []


def test_a_refusal_by_1c_own_code_is_final_and_keeps_1c_text(
    connector: OneC, onec: RunningSandbox
) -> None:
    card = connector.get_task(start_approval(onec, ["Морозов", "Волков"]))
    onec.client.set_refusal(card.subject.id, "Превышен лимит бюджета по статье «Закупки»")
    with pytest.raises(Refused) as caught:
        decide_as_shown(connector, card)
    assert caught.value.message.endswith("Превышен лимит бюджета по статье «Закупки»")
    assert not caught.value.retryable
    assert connector.get_task(card.id).is_pending


def test_only_the_performer_may_decide(connector: OneC, onec: RunningSandbox) -> None:
    task = connector.get_task(start_approval(onec, ["Морозов"]))
    foreign = dataclasses.replace(
        task, performer=dataclasses.replace(performer(task), id=user_id(onec, "Волков"))
    )
    with pytest.raises(NotPerformer):
        decide(connector, foreign, Decision.APPROVE)
    assert connector.get_task(task.id).state is TaskState.PENDING


# --- faults and credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("down", UpstreamUnavailable, "connection failed"),
        ("error500", UpstreamUnavailable, "1C"),
        ("html_login", AuthenticationFailed, "login page"),
        ("truncated", MalformedAnswer, "unreadable JSON"),
    ],
)
def test_each_injected_fault_becomes_its_error(
    connector: OneC, onec: RunningSandbox, mode: str, error: type[Exception], words: str
) -> None:
    if isinstance(connector, SoapConnector):
        connector.ping()  # the WSDL is loaded: the fault hits the call (the WSDL has its own test)
        words = words.replace("JSON", "XML")
    onec.client.set_fault(mode)
    with pytest.raises(error) as caught:
        list(connector.pending_tasks())
    assert words in str(caught.value)


def test_right_after_1c_could_not_be_reached_calls_fail_fast(
    connector: OneC, onec: RunningSandbox
) -> None:
    """A burst of presses during an outage must not each wait out the timeouts."""
    onec.client.set_fault("down")
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        connector.ping()
    onec.client.clear_fault()
    with pytest.raises(UpstreamUnavailable, match="failing fast"):
        connector.ping()


def test_an_odata_exception_keeps_1c_code_and_message(onec: RunningSandbox) -> None:
    onec.client.set_fault("error500")
    with pytest.raises(UpstreamApplicationError) as caught:
        make(onec, "odata").ping()
    assert caught.value.code == "-1"
    assert caught.value.retryable


def test_a_slow_1c_times_out_as_unavailable(onec: RunningSandbox) -> None:
    for kind in CONNECTORS:
        connector = make(onec, kind, timeout=0.3)
        onec.client.set_fault("slow", seconds=2)
        with pytest.raises(UpstreamUnavailable, match=r"no answer within 0\.3 s"):
            connector.ping()
        onec.client.clear_fault()


def test_wrong_credentials_are_an_authentication_error(onec: RunningSandbox) -> None:
    for kind in CONNECTORS:
        connector = make(onec, kind, password="не тот")
        with pytest.raises(AuthenticationFailed, match="HTTP 401"):
            connector.ping()


def test_the_cyrillic_login_reaches_1c_as_utf8(onec: RunningSandbox, connector: OneC) -> None:
    assert onec.config.user == "Шлюз"
    connector.ping()
    assert {entry.get("user") for entry in onec.client.requests_log()} == {"Шлюз"}


# --- parity and cost ----------------------------------------------------------------------------


def test_the_connectors_read_equal_tasks_from_the_same_data(onec: RunningSandbox) -> None:
    start_approval(onec, ["Морозов", "Волков"])
    by_kind = {}
    for kind in CONNECTORS:
        connector = make(onec, kind)
        by_kind[kind] = {t.id: task_to_dict(t) for t in connector.pending_tasks()}
    assert by_kind["odata"] == by_kind["http"] == by_kind["soap"]


def test_settings_choose_the_connector(onec_env: dict[str, str]) -> None:
    assert isinstance(build_onec(Settings.from_env(onec_env)), ODataConnector)
    http = build_onec(Settings.from_env({**onec_env, "ONEC_CONNECTOR": "http"}))
    assert isinstance(http, HttpServiceConnector)
    http.ping()
    soap = build_onec(Settings.from_env({**onec_env, "ONEC_CONNECTOR": "soap"}))
    assert isinstance(soap, SoapConnector)
    soap.ping()


@pytest.mark.parametrize("kind", CONNECTORS)
def test_a_second_pass_with_nothing_changed_reads_no_details_again(
    onec: RunningSandbox, kind: str
) -> None:
    """10,000 pending tasks: the first pass reads them all, the second only checks versions."""
    onec.client.reset(bulk=10_000)
    connector = make(onec, kind, page_size=500 if kind == "odata" else 1000)
    first = list(connector.pending_tasks())
    assert len(first) > 10_000
    onec.client.clear_requests()
    second = list(connector.pending_tasks())
    assert [t.id for t in second] == [t.id for t in first]
    log = onec.client.requests_log()
    if kind == "http":
        assert [entry["path"].rsplit("/", 1)[-1] for entry in log] == ["events"]
    elif kind == "soap":  # one GetEvents call; the WSDL was loaded by the first pass
        assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in log] == [("POST", "approvals")]
    else:
        details = [e for e in log if "DataVersion" not in str(e.get("query", ""))]
        assert details == []  # only listings of Ref_Key and DataVersion


def test_odata_rechecks_documents_of_unchanged_tasks_only_every_few_passes(
    onec: RunningSandbox,
) -> None:
    session = OneCSession(username=onec.config.user, password=onec.config.password, timeout=5)
    profile = dataclasses.replace(load_profile("sandbox"), document_recheck_passes=3)
    connector = ODataConnector(session, onec.base_url, profile)
    task_id = start_approval(onec, ["Морозов"])
    first = {t.id: t for t in connector.pending_tasks()}[task_id]  # pass 1 reads everything
    onec.client.clear_requests()
    connector.pending_tasks()  # pass 2: no task changed, documents not asked
    asked = [e for e in onec.client.requests_log() if "Document_" in e["path"]]
    assert asked == []
    onec.client.edit_document(first.subject.id, {"НазначениеПлатежа": "Новая редакция"})
    connector.pending_tasks()  # pass 3: still not asked
    after = {t.id: t for t in connector.pending_tasks()}[task_id]  # pass 4: the recheck
    assert after.version != first.version
    assert ("Назначение платежа", "Новая редакция") in [
        (f.name, f.value) for f in after.subject.fields
    ]


def new_tasks_pass(onec: RunningSandbox, new_tasks: int) -> tuple[list[dict[str, Any]], Task]:
    """The requests of an odata pass that finds `new_tasks` approvals of four users and a role
    it never saw (after a pass that read the seed), and one of the new role tasks."""
    onec.client.reset()
    connector = make(onec, "odata", page_size=500)
    connector.pending_tasks()
    people = [
        onec.client.create_user(f"Новиков{n} Олег Игоревич", [f"+7 912 000-10-0{n}"])
        for n in range(4)
    ]
    role = onec.client.create_role("Казначей", [{"user": people[0]}, {"user": people[1]}])
    created = []
    for n in range(new_tasks):
        stage: str | dict[str, str] = {"role": role} if n % 2 else people[n % 4]
        created.append(
            onec.client.create_approval(
                route=[stage], initiator=people[(n + 1) % 4], fields={"СуммаДокумента": str(n)}
            )["task_id"]
        )
    onec.client.clear_requests()
    tasks = {t.id: t for t in connector.pending_tasks()}
    assert set(created) <= set(tasks)
    assert all(tasks[t].initiator.name.startswith("Новиков") for t in created)
    return onec.client.requests_log(), tasks[created[-1]]


def test_odata_reads_names_of_new_tasks_in_one_request_per_catalog_whatever_their_number(
    onec: RunningSandbox,
) -> None:
    """Names are read for the whole pass at once, so more new tasks referring to the same
    unknown users, role and catalog items cost no more requests (below one key batch, 40)."""
    few, few_task = new_tasks_pass(onec, 2)
    many, many_task = new_tasks_pass(onec, 24)
    names = [e["path"].rsplit("/", 1)[-1] for e in many if "/Catalog_" in e["path"]]
    assert sorted(names) == ["Catalog_Пользователи", "Catalog_РолиИсполнителей"]
    assert len(many) == len(few)
    for task in (few_task, many_task):
        assert task.role is not None and task.role.name == "Казначей"
        assert [p.name.split()[0] for p in task.candidates] == ["Новиков0", "Новиков1"]
