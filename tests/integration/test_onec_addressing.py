"""The OData connector reads tasks as БСП addresses them (design 5.5), against the 1C emulator.

Role tasks and their candidates from `ИсполнителиЗадач`, approval processes against other
tasks, cancellation read from the task itself, the approver recorded as `Исполнитель`, users
groups, and a profile that names fields the infobase lacks. The emulator's state is arranged
through its own model (`sandbox.onec.addressing`, `routing`), as 1C's users would in 1C.
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
from gateway.domain import Decision, DecisionRequest, Person, Task, TaskKind, TaskState
from gateway.errors import AlreadyCompleted, InvalidRequest, NotFound, NotPerformer
from sandbox.onec import addressing, routing
from sandbox.onec.harness import RunningSandbox
from sandbox.onec.model import TASKS

PAYMENT = "ЗаявкаНаРасходованиеДенежныхСредств"
REGISTER = "InformationRegister_ИсполнителиЗадач"


def session(onec: RunningSandbox) -> OneCSession:
    return OneCSession(username=onec.config.user, password=onec.config.password, timeout=5)


@pytest.fixture
def odata(onec: RunningSandbox) -> Iterator[ODataConnector]:
    connector = ODataConnector(session(onec), onec.base_url, load_profile("sandbox"))
    yield connector
    connector._session.close()


def user(onec: RunningSandbox, surname: str) -> uuid.UUID:
    return uuid.UUID(str(onec.client.user(surname)["id"]))


def role_with(onec: RunningSandbox, name: str, surnames: list[str]) -> uuid.UUID:
    """A performer role whose register records name these users."""
    role = addressing.create_role(onec.infobase, name)
    performers = [(user(onec, s), addressing.NO_OBJECT) for s in surnames]
    addressing.set_performers(onec.infobase, role.ref, performers)
    return role.ref


def role_approval(onec: RunningSandbox, role: uuid.UUID) -> str:
    """An approval of a payment request whose one stage is addressed to `role`."""
    ib = onec.infobase
    initiator = user(onec, "Иванов")
    with ib.lock:
        document = routing.create_document(ib, PAYMENT, {"СуммаДокумента": "990000"}, initiator)
        _, task = routing.start_approval(ib, document, [routing.RoleRoute(role)], initiator)
    return str(task.ref)


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


def reads_of(onec: RunningSandbox, entity_set: str) -> list[dict[str, Any]]:
    return [e for e in onec.client.requests_log() if entity_set in e["path"]]


# --- who a task is for ----------------------------------------------------------------------------


def test_a_role_task_is_for_every_performer_the_register_names(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков", "Сидорова"])
    task = odata.get_task(role_approval(onec, role))
    assert task.performer is None
    assert task.role == Person(str(role), "Финансовый директор")
    assert sorted(p.name.split()[0] for p in task.candidates) == ["Волков", "Морозов", "Сидорова"]
    assert task.may_decide(str(user(onec, "Волков")))
    assert not task.may_decide(str(user(onec, "Иванов")))
    listed = next(t for t in odata.pending_tasks() if t.id == task.id)
    assert listed.candidates == task.candidates


def test_a_person_task_is_for_its_performer_alone(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    task = next(iter(odata.pending_tasks()))
    assert task.performer is not None and task.performer.name
    assert task.candidates == () and task.role is None
    assert task.deciders == (task.performer,)


def test_the_register_is_read_once_a_pass_and_a_change_shows_in_the_next(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Казначей", ["Морозов"])
    first, second = role_approval(onec, role), role_approval(onec, role)
    odata.pending_tasks()
    onec.client.clear_requests()
    odata.pending_tasks()
    assert len(reads_of(onec, REGISTER)) == 1
    addressing.set_performers(
        onec.infobase, role, [(user(onec, s), addressing.NO_OBJECT) for s in ("Волков",)]
    )
    tasks = {t.id: t for t in odata.pending_tasks()}
    for task_id in (first, second):
        assert [p.name.split()[0] for p in tasks[task_id].candidates] == ["Волков"]


# --- deciding a role task -------------------------------------------------------------------------


def test_deciding_a_role_task_records_the_approver_as_its_performer_in_1c(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task = odata.get_task(role_approval(onec, role))
    approver = next(p for p in task.candidates if p.name.startswith("Волков"))
    done = decide(odata, task, approver)
    assert done.state is TaskState.COMPLETED
    assert done.performer == approver
    in_1c = onec.infobase.tasks[uuid.UUID(task.id)]
    assert str(in_1c.performer) == approver.id
    assert in_1c.accepted


def test_the_second_candidate_to_decide_finds_the_task_done(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task = odata.get_task(role_approval(onec, role))
    first, second = task.candidates
    decide(odata, task, first, key="press-first")
    with pytest.raises(AlreadyCompleted):
        decide(odata, task, second, key="press-second")
    assert str(onec.infobase.tasks[uuid.UUID(task.id)].performer) == first.id


def test_someone_the_register_does_not_name_may_not_decide_a_role_task(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов"])
    task = odata.get_task(role_approval(onec, role))
    with pytest.raises(NotPerformer):
        decide(odata, task, Person(str(user(onec, "Иванов")), "Иванов Иван Петрович"))
    in_1c = onec.infobase.tasks[uuid.UUID(task.id)]
    assert not in_1c.executed and not in_1c.accepted


# --- approvals and other tasks --------------------------------------------------------------------


def test_tasks_of_a_process_not_listed_as_approval_are_other_tasks_never_executed(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    ib = onec.infobase
    _, assignment = routing.start_assignment(
        ib, "Ознакомиться с регламентом", user(onec, "Морозов"), user(onec, "Иванов")
    )
    task = odata.get_task(str(assignment.ref))
    assert task.kind is TaskKind.TASK and task.allowed_decisions == ()
    assert task.is_pending
    with pytest.raises(InvalidRequest, match="not an approval"):
        decide(odata, task, task.performer or Person("", ""))
    assert not ib.tasks[assignment.ref].executed
    approvals = [t for t in odata.pending_tasks() if t.id != task.id]
    assert approvals and all(t.kind is TaskKind.APPROVAL for t in approvals)


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


def test_a_stopped_process_cancels_its_tasks_without_reading_processes(
    odata: ODataConnector, onec: RunningSandbox
) -> None:
    role = role_with(onec, "Финансовый директор", ["Морозов", "Волков"])
    task_id = role_approval(onec, role)
    odata.pending_tasks()
    ib = onec.infobase
    routing.stop_process(ib, ib.approvals[ib.tasks[uuid.UUID(task_id)].approval])
    onec.client.clear_requests()
    assert task_id not in {t.id for t in odata.pending_tasks()}
    assert reads_of(onec, "BusinessProcess_") == []
    assert odata.get_task(task_id).state is TaskState.CANCELLED
    assert reads_of(onec, "BusinessProcess_") == []


# --- users groups ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["odata", "http", "soap"])
def test_a_users_group_answers_its_members(onec: RunningSandbox, kind: str) -> None:
    members = {user(onec, "Морозов"), user(onec, "Волков")}
    addressing.create_user_group(onec.infobase, "Telegram: согласующие", members)
    if kind == "odata":
        connector: Any = ODataConnector(session(onec), onec.base_url, load_profile("sandbox"))
    elif kind == "http":
        connector = HttpServiceConnector(session(onec), f"{onec.base_url}/hs/approvals/v1")
    else:
        connector = SoapConnector(
            session(onec), f"{onec.base_url}/ws/approvals?wsdl", f"{onec.base_url}/ws/approvals"
        )
    assert connector.group_members("Telegram: согласующие") == {str(m) for m in members}
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
