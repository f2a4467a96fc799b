"""The SOAP connector's own behaviour against the 1C emulator: address, WSDL loading, faults.

What it shares with the other connectors is in test_onec_connectors.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import zeep.exceptions

from adapters.onec import OneCSession, SoapConnector
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import Decision
from gateway.errors import (
    AuthenticationFailed,
    ConfigurationError,
    InvalidRequest,
    MalformedAnswer,
    NotFound,
    NotPerformer,
    RequestRejected,
    UpstreamApplicationError,
    UpstreamUnavailable,
)
from sandbox.onec import harness
from sandbox.onec.harness import RunningSandbox
from tests.integration.test_onec_connectors import decide, make, performer, start_approval, user_id

INTERNAL_ADDRESS = "http://internal-1c:80/uh/ws/approvals"


@pytest.fixture
def soap(onec: RunningSandbox) -> Iterator[SoapConnector]:
    connector = make(onec, "soap")
    assert isinstance(connector, SoapConnector)
    yield connector
    connector._session.close()


@pytest.fixture(scope="module")
def internal_onec() -> Iterator[RunningSandbox]:
    """An emulator whose WSDL names a host only the 1C server's own network knows."""
    with harness.running(soap_address=INTERNAL_ADDRESS) as instance:
        yield instance


def test_the_address_comes_from_the_base_url_when_the_wsdl_names_an_internal_host(
    internal_onec: RunningSandbox,
) -> None:
    with internal_onec.session() as http:
        wsdl = http.get(f"{internal_onec.base_url}/ws/approvals?wsdl", timeout=5).text
    assert f'location="{INTERNAL_ADDRESS}"' in wsdl
    connector = make(internal_onec, "soap")
    assert len(list(connector.pending_tasks())) == 5
    assert [u.name for u in connector.find_users_by_phone("+7 (912) 345-67-89")] == [
        "Иванов Иван Петрович"
    ]


def test_nothing_connects_until_the_first_call_and_the_wsdl_is_read_once(
    onec: RunningSandbox,
) -> None:
    connector = make(onec, "soap")
    assert onec.client.requests_log() == []
    connector.ping()
    list(connector.pending_tasks())
    log = onec.client.requests_log()
    assert [e["method"] for e in log].count("GET") == 1
    assert all(e["path"].endswith("/ws/approvals") for e in log)


# --- faults of the service ----------------------------------------------------------------------


def test_an_unknown_task_fault_is_not_found_with_its_code(soap: SoapConnector) -> None:
    with pytest.raises(NotFound) as caught:
        soap.get_task("6f1c1b9e-0000-4000-8000-000000000099")
    assert caught.value.code == "not_found"
    assert isinstance(caught.value.__cause__, zeep.exceptions.Fault)


def test_a_decision_by_someone_else_is_a_not_performer_fault(
    soap: SoapConnector, onec: RunningSandbox
) -> None:
    task = soap.get_task(start_approval(onec, ["Морозов"]))
    foreign = dataclasses.replace(
        task, performer=dataclasses.replace(performer(task), id=user_id(onec, "Волков"))
    )
    with pytest.raises(NotPerformer) as caught:
        decide(soap, foreign, Decision.APPROVE)
    assert caught.value.code == "not_performer"


def test_a_bad_request_is_an_invalid_fault_with_1c_message(onec: RunningSandbox) -> None:
    connector = make(onec, "soap", page_size=0)
    with pytest.raises(InvalidRequest) as caught:
        list(connector.pending_tasks())
    assert caught.value.code == "invalid"
    assert "limit" in caught.value.message


def test_a_decision_the_stage_does_not_offer_is_invalid(
    soap: SoapConnector, onec: RunningSandbox
) -> None:
    task = soap.get_task(start_approval(onec, ["Морозов", "Волков"]))
    with pytest.raises(InvalidRequest):
        decide(soap, task, Decision.RETURN_PREVIOUS)  # stage 1 has no previous stage


def test_1c_own_server_fault_keeps_its_message_and_is_retryable(soap: SoapConnector) -> None:
    """A fault without our detail (1C's application code raised) keeps what 1C said."""
    fault = zeep.exceptions.Fault("Ошибка при вызове метода контекста (Записать)", "soap:Server")
    error = soap._fault_error(fault)
    assert isinstance(error, UpstreamApplicationError) and error.retryable
    assert "Записать" in str(error)


def test_an_unknown_client_fault_is_a_rejection(soap: SoapConnector) -> None:
    error = soap._fault_error(zeep.exceptions.Fault("что-то не так", "soap:Client"))
    assert type(error) is RequestRejected and not error.retryable


def test_the_print_form_comes_as_pdf_bytes(soap: SoapConnector, onec: RunningSandbox) -> None:
    task = soap.get_task(start_approval(onec, ["Морозов"]))
    content = soap.print_form(task)
    assert content is not None and content.startswith(b"%PDF-")


def test_the_decision_carries_the_idempotency_key_across_connectors(
    soap: SoapConnector, onec: RunningSandbox
) -> None:
    """Keys are global in 1C: a press retried through another connector is still applied once."""
    task = soap.get_task(start_approval(onec, ["Морозов", "Волков"]))
    request = DecisionRequest(
        task_id=task.id,
        decision=Decision.APPROVE,
        comment="",
        user_id=performer(task).id,
        user_name=performer(task).name,
        idempotency_key="press-shared",
        requested_at=task.created_at,
    )
    first = soap.submit_decision(request)
    again = make(onec, "http").submit_decision(request)
    assert first == again


# --- loading the WSDL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("down", UpstreamUnavailable, "could not load the WSDL: http"),
        ("error500", UpstreamUnavailable, "could not load the WSDL"),
        ("html_login", AuthenticationFailed, "instead of the WSDL"),
        ("truncated", MalformedAnswer, "unreadable WSDL"),
    ],
)
def test_a_wsdl_that_cannot_be_loaded_is_a_clear_error(
    soap: SoapConnector,
    onec: RunningSandbox,
    mode: str,
    error: type[Exception],
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("adapters.onec.session.FAIL_FAST_SECONDS", 0.0)  # retry at once below
    onec.client.set_fault(mode)
    with pytest.raises(error) as caught:
        soap.ping()
    assert words in str(caught.value)
    onec.client.clear_fault()
    soap.ping()  # a failed load is not kept: the next call loads it


def test_a_wsdl_url_with_nothing_there_is_a_configuration_error(onec: RunningSandbox) -> None:
    session = OneCSession(username=onec.config.user, password=onec.config.password, timeout=5)
    connector = SoapConnector(
        session, f"{onec.base_url}/ws/nothing?wsdl", f"{onec.base_url}/ws/approvals"
    )
    with pytest.raises(ConfigurationError, match="ONEC_SOAP_WSDL"):
        connector.ping()


def test_a_service_address_with_nothing_there_is_a_configuration_error(
    onec: RunningSandbox,
) -> None:
    """Not NotFound, which a sync pass would read as every task gone."""
    session = OneCSession(username=onec.config.user, password=onec.config.password, timeout=5)
    connector = SoapConnector(
        session, f"{onec.base_url}/ws/approvals?wsdl", f"{onec.base_url}/ws/elsewhere"
    )
    with pytest.raises(ConfigurationError, match="ONEC_BASE_URL"):
        connector.get_task("6f1c1b9e-0000-4000-8000-000000000099")


def test_a_wrong_password_fails_on_the_wsdl_as_authentication(onec: RunningSandbox) -> None:
    with pytest.raises(AuthenticationFailed, match="HTTP 401"):
        make(onec, "soap", password="не тот").ping()
