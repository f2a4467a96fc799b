"""SOAP faults as our 1C extension raises them: `<code>: <message>` in faultstring, no detail."""

from __future__ import annotations

import pytest
import zeep.exceptions

from adapters.onec.session import OneCSession
from adapters.onec.soap import SoapConnector
from gateway.errors import (
    AlreadyCompleted,
    InvalidRequest,
    NotFound,
    NotPerformer,
    UpstreamApplicationError,
    UpstreamUnavailable,
)


@pytest.fixture
def connector() -> SoapConnector:
    # Nothing is loaded or sent: the WSDL is read on first use, and these tests make no call.
    session = OneCSession(username="Шлюз", password="x", timeout=1)
    return SoapConnector(session, "http://srv/uh/ws/approvals?wsdl", "http://srv/uh/ws/approvals")


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (
            "{ВебСервис.Approvals.Модуль(58)}: not_found: Задача не найдена",
            NotFound,
            "Задача не найдена",
        ),
        ("already_completed: Задача уже выполнена", AlreadyCompleted, "Задача уже выполнена"),
        ("not_performer: Пользователь не исполнитель", NotPerformer, "Пользователь не исполнитель"),
        ("invalid: Неизвестное решение", InvalidRequest, "Неизвестное решение"),
    ],
)
def test_a_contract_code_in_faultstring_becomes_its_typed_error(
    connector: SoapConnector, text: str, kind: type[Exception], message: str
) -> None:
    fault = zeep.exceptions.Fault(text, code="soap:Server")
    error = connector._fault_error(fault)
    assert type(error) is kind
    assert message in str(error)


def test_any_other_server_fault_keeps_1c_text_as_an_application_error(
    connector: SoapConnector,
) -> None:
    fault = zeep.exceptions.Fault("Ошибка блокировки данных", code="soap:Server")
    error = connector._fault_error(fault)
    assert isinstance(error, UpstreamApplicationError)
    assert "Ошибка блокировки данных" in str(error)


def test_a_lock_conflict_fault_is_transient_not_a_rejection(connector: SoapConnector) -> None:
    text = "unavailable: Конфликт блокировок при выполнении транзакции"
    error = connector._fault_error(zeep.exceptions.Fault(text, code="soap:Server"))
    assert type(error) is UpstreamUnavailable
    assert error.retryable
    assert "Конфликт блокировок" in str(error)
