"""The SOAP web service through zeep: WSDL, SOAP 1.1 and 1.2, every operation, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import Transport

from sandbox.onec.harness import running

NS = "{http://tg1c.ru/approvals/v1}"


def soap_client(base_url: str, session: requests.Session, soap12: bool = False) -> Any:
    """A zeep service proxy for the emulator, bound to the publication's own address."""
    client = zeep.Client(f"{base_url}/ws/approvals?wsdl", transport=Transport(session=session))
    port = "ApprovalsSoap12Binding" if soap12 else "ApprovalsSoapBinding"
    return client.create_service(
        f"{{http://tg1c.ru/approvals/v1}}{port}", f"{base_url}/ws/approvals"
    )


@pytest.fixture(params=["soap11", "soap12"])
def service(request: pytest.FixtureRequest, onec: Any, http: requests.Session) -> Any:
    return soap_client(onec.base_url, http, soap12=request.param == "soap12")


def test_wsdl_names_the_address_the_client_used(onec: Any, http: requests.Session) -> None:
    text = http.get(onec.base_url + "/ws/approvals?wsdl", timeout=30).text
    locations = etree.fromstring(text.encode()).xpath("//*[local-name()='address']/@location")
    assert locations == [onec.base_url + "/ws/approvals"] * 2


def test_wsdl_can_name_an_internal_host_as_real_publications_often_do() -> None:
    with (
        running(soap_address="http://srv-1c.local/uh/ws/approvals") as onec,
        onec.session() as session,
    ):
        text = session.get(onec.base_url + "/ws/approvals?wsdl", timeout=30).text
        client = zeep.Client(
            onec.base_url + "/ws/approvals?wsdl", transport=Transport(session=session)
        )
        assert "http://srv-1c.local/uh/ws/approvals" in text
        assert client.service._binding_options["address"] == "http://srv-1c.local/uh/ws/approvals"


def test_wsdl_is_document_literal_with_both_soap_bindings(
    onec: Any, http: requests.Session
) -> None:
    client = zeep.Client(f"{onec.base_url}/ws/approvals?wsdl", transport=Transport(session=http))
    ports = client.wsdl.services["Approvals"].ports
    assert set(ports) == {"ApprovalsSoap", "ApprovalsSoap12"}
    for port in ports.values():
        operation = port.binding._operations["ListTasks"]
        assert operation.style == "document"
        assert operation.soapaction == "http://tg1c.ru/approvals/v1#Approvals:ListTasks"


def test_list_tasks_pages_like_the_http_service(service: Any) -> None:
    first = service.ListTasks(limit=3)
    assert len(first.tasks) == 3 and first.next_page_token
    rest = service.ListTasks(limit=3, page_token=first.next_page_token)
    assert len(rest.tasks) == 2 and rest.next_page_token is None
    task = first.tasks[0]
    assert task.stage.count == 3 and task.subject.fields[4].value == "1 250 000,00"
    assert task.subject.tables[0].rows[0].value[0] == "1"
    assert task.created_at.utcoffset().total_seconds() == 3 * 3600


def test_get_task_and_print_form(service: Any) -> None:
    task = service.ListTasks(limit=1).tasks[0]
    assert service.GetTask(id=task.id).title == task.title
    pdf = service.GetPrintForm(id=task.id)
    assert pdf.startswith(b"%PDF")


def test_find_users_by_phone_and_events(service: Any) -> None:
    # zeep unwraps UserList (one repeated child) into a plain list of users.
    found = service.FindUsersByPhone(phone="+79225554433")
    assert sorted(u.name for u in found) == [
        "Сидоров Павел Николаевич",
        "Сидорова Елена Викторовна",
    ]
    page = service.GetEvents(limit=2)
    assert [e.seq for e in page.events] == [1, 2]
    assert service.GetEvents(after=page.cursor, limit=1).events[0].seq == 3


def test_submit_decision_answers_the_task_and_replays_by_key(service: Any, users: Any) -> None:
    args = _approval_by_petrova(service, users, comment="SOAP")
    done = service.SubmitDecision(**args, idempotency_key="soap-1")
    assert done.state == "completed" and done.result.decision == "approve"
    assert service.SubmitDecision(**args, idempotency_key="soap-1").version == done.version


def test_errors_come_as_soap_faults_carrying_the_error_code(service: Any, users: Any) -> None:
    with pytest.raises(Fault) as missing:
        service.GetTask(id="00000000-0000-0000-0000-000000000000")
    assert missing.value.message.startswith("not_found")
    assert missing.value.detail.find(f"{NS}ApprovalsFault/{NS}code").text == "not_found"
    args = _approval_by_petrova(service, users, comment="")
    service.SubmitDecision(**args, idempotency_key="f1")
    with pytest.raises(Fault) as late:
        service.SubmitDecision(**args, idempotency_key="f2")
    detail = late.value.detail.find(f"{NS}ApprovalsFault")
    assert detail.find(f"{NS}code").text == "already_completed"
    assert detail.find(f"{NS}task/{NS}state").text == "completed"
    with pytest.raises(Fault) as foreign:
        service.SubmitDecision(**{**args, "user_id": users["Волков"]["id"]}, idempotency_key="f3")
    assert foreign.value.message.startswith("not_performer")


def test_a_malformed_envelope_is_a_client_fault(onec: Any, http: requests.Session) -> None:
    answer = http.post(
        onec.base_url + "/ws/approvals",
        data=b"<not-xml",
        headers={"Content-Type": "text/xml"},
        timeout=30,
    )
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find(
        ".//{http://schemas.xmlsoap.org/soap/envelope/}Fault"
    )
    assert fault.findtext("faultcode") == "soap:Client"


@pytest.fixture
def plain_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_the_wsdl_needs_credentials_too(onec: Any, plain_session: requests.Session) -> None:
    assert plain_session.get(onec.base_url + "/ws/approvals?wsdl", timeout=30).status_code == 401


def test_a_role_task_comes_with_kind_role_and_candidates_and_a_stale_decision_is_a_fault(
    onec: Any, service: Any, users: Any
) -> None:
    people = {surname: user["id"] for surname, user in users.items()}
    role = onec.client.role("Финансовый контроль")
    started = onec.client.create_approval([{"role": role}], people["Иванов"])
    task = service.GetTask(id=started["task_id"])
    assert (task.kind, task.role.name) == ("approval", "Финансовый контроль")
    assert getattr(task.performer, "id", None) is None  # xsi:nil; zeep may give an empty object
    assert [c.id for c in task.candidates] == [
        people["Петрова"],
        people["Морозов"],
        people["Волков"],
    ]
    assert task.subject.version == task.version.split(".", 1)[1]
    args = {
        "task_id": task.id,
        "decision": "approve",
        "comment": "SOAP",
        "user_id": people["Морозов"],
    }
    with pytest.raises(Fault) as stale:
        service.SubmitDecision(**args, idempotency_key="r1", expected_version="old")
    assert stale.value.detail.find(f"{NS}ApprovalsFault/{NS}code").text == "stale"
    done = service.SubmitDecision(
        **args,
        idempotency_key="r2",
        expected_version=task.version,
        expected_subject_version=task.subject.version,
    )
    assert (done.state, done.performer.id) == ("completed", people["Морозов"])
    assignment = onec.client.create_assignment("Прочитать регламент", people["Петрова"])
    assert service.GetTask(id=assignment["task_id"]).kind == "task"


def _approval_by_petrova(service: Any, users: Any, comment: str) -> dict[str, Any]:
    """SubmitDecision's arguments but the key: Петрова approves her first pending task."""
    task = next(t for t in service.ListTasks().tasks if t.performer.name.startswith("Петрова"))
    return {
        "task_id": task.id,
        "decision": "approve",
        "comment": comment,
        "user_id": users["Петрова"]["id"],
    }
