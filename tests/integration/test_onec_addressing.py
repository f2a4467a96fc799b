"""The OData connector reads tasks as БСП addresses them (design 5.5), against the 1C emulator.

Role tasks and their candidates from `ИсполнителиЗадач`, approval processes against other
tasks, cancellation read from the task itself, the approver recorded as `Исполнитель`, users
groups, and a profile that names fields the infobase lacks. The emulator's state is arranged
through its control API, as 1C's users would arrange it in 1C. What contract 5.5 carries runs on
every connector; what only OData does (the register read, no process reads) on `odata`.
"""

from __future__ import annotations

import dataclasses
import uuid
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
from adapters.onec.profile import Column
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import Decision, Person, Task, TaskKind, TaskState
from gateway.errors import (
    AlreadyCompleted,
    InvalidRequest,
    NotFound,
    NotPerformer,
    RequestRejected,
)
from sandbox.onec.harness import RunningSandbox
from sandbox.onec.model import TASKS

PAYMENT = "ЗаявкаНаРасходованиеДенежныхСредств"
REGISTER = "InformationRegister_ИсполнителиЗадач"
CONNECTORS = ["odata", "http", "soap"]


def session(onec: RunningSandbox) -> OneCSession:
    return OneCSession(username=onec.config.user, password=onec.config.password, timeout=5)


def make(onec: RunningSandbox, kind: str) -> Any:
    if kind == "http":
        return HttpServiceConnector(session(onec), f"{onec.base_url}/hs/approvals/v1")
    if kind == "soap":
        return SoapConnector(
            session(onec), f"{onec.base_url}/ws/approvals?wsdl", f"{onec.base_url}/ws/approvals"
        )
    return ODataConnector(session(onec), onec.base_url, load_profile("sandbox"))


@pytest.fixture(params=CONNECTORS)
def connector(request: pytest.FixtureRequest, onec: RunningSandbox) -> Iterator[Any]:
    instance = make(onec, request.param)
    yield instance
    instance._session.close()


@pytest.fixture
def odata(onec: RunningSandbox) -> Iterator[ODataConnector]:
    connector = make(onec, "odata")
    yield connector
    connector._session.close()


def user(onec: RunningSandbox, surname: str) -> uuid.UUID:
    return uuid.UUID(str(onec.client.user(surname)["id"]))


def role_with(onec: RunningSandbox, name: str, surnames: list[str]) -> str:
    """A performer role whose register records name these users (control API, as in 1C)."""
    return onec.client.create_role(name, [{"user": str(user(onec, s))} for s in surnames])


def role_approval(onec: RunningSandbox, role: str) -> tuple[str, str]:
    """(task id, process id) of an approval whose one stage is addressed to `role`."""
    created = onec.client.create_approval(
        route=[{"role": role}],
        initiator=str(user(onec, "Иванов")),
        fields={"СуммаДокумента": "990000", "НазначениеПлатежа": "Оплата по договору"},
    )
    return str(created["task_id"]), str(created["approval_id"])


def decide(connector: Any, task: Task, who: Person, key: str = "press-1") -> Task:
    result: Task = connector.submit_decision(
        DecisionRequest(
            task_id=task.id,
            decision=Decision.APPROVE,
            comment="",
            user_id=who.id,
            user_name=who.name,
            idempotency_key=key,
            requested_at=datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
        )
    )
    return result


def performer_in_1c(onec: RunningSandbox, task_id: str) -> str | None:
    performer = onec.client.task(task_id).get("performer")
    return str(performer["id"]) if performer else None


def reads_of(onec: RunningSandbox, entity_set: str) -> list[dict[str, Any]]:
    return [e for e in onec.client.requests_log() if entity_set in e["path"]]


# --- who a task is for ----------------------------------------------------------------------------


def test_a_role_task_is_for_every_performer_the_register_names(
    connector: Any, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков", "Сидорова"])
    task_id, _ = role_approval(onec, role)
    task = connector.get_task(task_id)
    assert task.performer is None
    assert task.role == Person(role, "Финансовый директор")
    assert sorted(p.name.split()[0] for p in task.candidates) == ["Волков", "Морозов", "Сидорова"]
    assert task.may_decide(str(user(onec, "Волков")))
    assert not task.may_decide(str(user(onec, "Иванов")))
    listed = next(t for t in connector.pending_tasks() if t.id == task.id)
    assert set(listed.candidates) == set(task.candidates)


def test_a_person_task_is_for_its_performer_alone(connector: Any) -> None:
    task = next(iter(connector.pending_tasks()))
    assert task.performer is not None and task.performer.name
    assert task.role is None
    assert task.deciders == (task.performer,)


def test_a_register_change_shows_in_the_next_pass(connector: Any, onec: RunningSandbox) -> None:
    role = role_with(onec, "Казначей", ["Морозов"])
    first, _ = role_approval(onec, role)
    second, _ = role_approval(onec, role)
    connector.pending_tasks()
    onec.client.set_role_performers(role, [{"user": str(user(onec, "Волков"))}])
    tasks = {t.id: t for t in connector.pending_tasks()}
    for task_id in (first, second):
        assert [p.name.split()[0] for p in tasks[task_id].candidates] == ["Волков"]


def test_odata_reads_the_register_once_a_pass(odata: ODataConnector, onec: RunningSandbox) -> None:
    role = role_with(onec, "Казначей", ["Морозов"])
    role_approval(onec, role)
    role_approval(onec, role)
    odata.pending_tasks()
    onec.client.clear_requests()
    odata.pending_tasks()
    assert len(reads_of(onec, REGISTER)) == 1


def test_odata_reads_only_its_own_group_for_one_task(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    first = role_with(onec, "Казначей", ["Морозов"])
    role_with(onec, "Главный бухгалтер", ["Волков"])
    task_id, _ = role_approval(onec, first)
    onec.client.clear_requests()
    task = odata.get_task(task_id)
    [read] = reads_of(onec, REGISTER)
    assert "ГруппаИсполнителейЗадач_Key eq guid" in read["query"]
    assert [p.name.split()[0] for p in task.candidates] == ["Морозов"]


# --- deciding a role task -------------------------------------------------------------------------


def test_deciding_a_role_task_records_the_approver_as_its_performer_in_1c(
    connector: Any, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task = connector.get_task(role_approval(onec, role)[0])
    approver = next(p for p in task.candidates if p.name.startswith("Волков"))
    done = decide(connector, task, approver)
    assert done.state is TaskState.COMPLETED
    assert done.performer == approver
    assert performer_in_1c(onec, task.id) == approver.id
    assert onec.infobase.tasks[uuid.UUID(task.id)].accepted


def test_the_second_candidate_to_decide_finds_the_task_done(
    connector: Any, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task = connector.get_task(role_approval(onec, role)[0])
    first, second = task.candidates
    decide(connector, task, first, key="press-first")
    with pytest.raises(AlreadyCompleted):
        decide(connector, task, second, key="press-second")
    assert performer_in_1c(onec, task.id) == first.id


def test_someone_the_register_does_not_name_may_not_decide_a_role_task(
    connector: Any, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов"])
    task = connector.get_task(role_approval(onec, role)[0])
    with pytest.raises(NotPerformer):
        decide(connector, task, Person(str(user(onec, "Иванов")), "Иванов Иван Петрович"))
    in_1c = onec.infobase.tasks[uuid.UUID(task.id)]
    assert not in_1c.executed and not in_1c.accepted
    assert performer_in_1c(onec, task.id) is None


# --- approvals and other tasks --------------------------------------------------------------------


def test_tasks_of_a_process_not_listed_as_approval_are_other_tasks_never_executed(
    connector: Any, onec: RunningSandbox
) -> None:
    created = onec.client.create_assignment(
        "Ознакомиться с регламентом", str(user(onec, "Морозов")), author=str(user(onec, "Иванов"))
    )
    task = connector.get_task(str(created["task_id"]))
    assert task.kind is TaskKind.TASK and task.allowed_decisions == ()
    assert task.is_pending
    with pytest.raises(RequestRejected):
        decide(connector, task, task.performer or Person("", ""))
    assert onec.client.task(task.id)["state"] == "pending"
    approvals = [t for t in connector.pending_tasks() if t.id != task.id]
    assert approvals and all(t.kind is TaskKind.APPROVAL for t in approvals)


def test_odata_refuses_a_decision_on_another_task_without_writing(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    created = onec.client.create_assignment("Подготовить отчёт", str(user(onec, "Морозов")))
    task = odata.get_task(str(created["task_id"]))
    onec.client.clear_requests()
    with pytest.raises(InvalidRequest, match="not an approval"):
        decide(odata, task, task.performer or Person("", ""))
    assert [e["method"] for e in onec.client.requests_log()] == ["GET"] * len(
        onec.client.requests_log()
    )


def test_onec_approval_processes_decides_which_processes_are_approvals(
    onec: RunningSandbox,
) -> None:
    connector = ODataConnector(
        session(onec),
        onec.base_url,
        load_profile("sandbox"),
        approval_processes=("BusinessProcess_Задание",),
    )
    tasks = list(connector.pending_tasks())
    assert tasks and all(t.kind is TaskKind.TASK and not t.allowed_decisions for t in tasks)


# --- cancellation ---------------------------------------------------------------------------------


def test_a_stopped_process_cancels_its_role_task(connector: Any, onec: RunningSandbox) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task_id, process_id = role_approval(onec, role)
    connector.pending_tasks()
    onec.client.stop_process(process_id)
    assert task_id not in {t.id for t in connector.pending_tasks()}
    assert connector.get_task(task_id).state is TaskState.CANCELLED


def test_odata_tells_a_stopped_process_from_the_task_without_reading_processes(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task_id, process_id = role_approval(onec, role)
    odata.pending_tasks()
    onec.client.stop_process(process_id)
    onec.client.clear_requests()
    assert task_id not in {t.id for t in odata.pending_tasks()}
    assert reads_of(onec, "BusinessProcess_") == []
    assert odata.get_task(task_id).state is TaskState.CANCELLED
    assert reads_of(onec, "BusinessProcess_") == []


# --- users groups ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["odata", "http", "soap"])
def test_a_users_group_answers_its_members(onec: RunningSandbox, kind: str) -> None:
    members = {str(user(onec, "Морозов")), str(user(onec, "Волков"))}
    group = onec.client.create_user_group("Telegram: согласующие", sorted(members))
    connector = make(onec, kind)
    assert connector.group_members("Telegram: согласующие") == members
    onec.client.set_group_members(group, [str(user(onec, "Волков"))])
    assert connector.group_members("Telegram: согласующие") == {str(user(onec, "Волков"))}
    with pytest.raises(NotFound, match="Нет такой группы"):
        connector.group_members("Нет такой группы")


# --- a schema that differs from the profile -------------------------------------------------------


def test_profile_fields_the_infobase_lacks_are_left_out_and_named(onec: RunningSandbox) -> None:
    profile = load_profile("sandbox")
    payment = f"Document_{PAYMENT}"
    spec = profile.documents[payment]
    lacking = dataclasses.replace(
        spec, fields=(*spec.fields, Column("Проект", "Проект", reference="Catalog_Проекты"))
    )
    profile = dataclasses.replace(
        profile,
        documents={**profile.documents, payment: lacking},
        stage_name="ИмяЭтапаМаршрута",
    )
    connector = ODataConnector(session(onec), onec.base_url, profile)
    tasks = [t for t in connector.pending_tasks() if t.subject.type == payment]
    assert tasks
    fields = {f.name: f.value for f in tasks[0].subject.fields}
    assert fields["Контрагент"] and fields["Проект"] == ""
    assert connector.schema_problems() == [
        f"1C infobase has no {TASKS}.ИмяЭтапаМаршрута",
        f"1C infobase has no {payment}.Проект_Key",
    ]


def test_a_document_type_the_profile_does_not_describe_is_shown_from_metadata(
    onec: RunningSandbox,
) -> None:
    profile = load_profile("sandbox")
    payment = f"Document_{PAYMENT}"
    wrong = dataclasses.replace(
        profile.documents[payment], fields=(Column("Сумма", "ИтогоКОплате", "money"),), tables=()
    )
    for documents in ({}, {payment: wrong}):
        connector = ODataConnector(
            session(onec), onec.base_url, dataclasses.replace(profile, documents=documents)
        )
        task = next(t for t in connector.pending_tasks() if t.number == "000000001")
        fields = {f.name: f.value for f in task.subject.fields}
        assert fields["Организация"] == "АО «Уральский холдинг»"  # a reference, by its name
        assert fields["Сумма документа"] == "1 250 000,00"
        tables = {t.name: t for t in task.subject.tables}
        lines = tables["Расшифровка платежа"]
        assert lines.rows and "Статья движения денежных средств" in lines.columns


def test_names_of_references_are_read_in_batches_not_one_request_each(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    onec.client.clear_requests()
    tasks = list(odata.pending_tasks())
    assert len(tasks) >= 5
    one_each = [e for e in onec.client.requests_log() if "Catalog_" in e["path"]]
    catalogs = {e["path"].split("/")[-1] for e in one_each}
    assert len(one_each) == len(catalogs)  # each catalog once, whatever the number of references
