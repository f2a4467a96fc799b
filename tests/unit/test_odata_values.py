"""1C's OData value conventions, read as 1C sends them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from adapters.onec import odata_values as v
from adapters.onec.odata_errors import odata_error
from adapters.onec.session import Answer
from gateway.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidRequest,
    MalformedAnswer,
    NotFound,
    RequestRejected,
    UpstreamApplicationError,
    UpstreamUnavailable,
    VersionConflict,
)

MSK = timezone(timedelta(hours=3))


def test_empty_references_read_as_none() -> None:
    assert v.ref("00000000-0000-0000-0000-000000000000") is None
    assert v.ref("") is None
    assert v.ref(None) is None
    assert v.ref("8f2a7c1e-1111-4c8e-9a55-0c2a1d5f7b01") == "8f2a7c1e-1111-4c8e-9a55-0c2a1d5f7b01"


def test_a_composite_field_reads_its_entity_set_from_the_type_field() -> None:
    row = {
        "Исполнитель": "8f2a7c1e-1111-4c8e-9a55-0c2a1d5f7b01",
        "Исполнитель_Type": "StandardODATA.Catalog_Пользователи",
        "Предмет": "00000000-0000-0000-0000-000000000000",
        "Предмет_Type": "StandardODATA.Undefined",
    }
    assert v.composite(row, "Исполнитель") == (
        "Catalog_Пользователи",
        "8f2a7c1e-1111-4c8e-9a55-0c2a1d5f7b01",
    )
    assert v.composite(row, "Предмет") is None
    assert v.composite(row, "Автор") is None


def test_zone_less_dates_take_the_server_zone_and_the_empty_date_is_none() -> None:
    assert v.date("2026-11-27T10:15:00", MSK) == datetime(2026, 11, 27, 10, 15, tzinfo=MSK)
    assert v.date("0001-01-01T00:00:00", MSK) is None
    assert v.date("", MSK) is None
    assert v.date("27.11.2026", MSK) is None
    local = v.date("2026-11-27T10:15:00", None)
    assert local is not None and local.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1250000, "money", "1 250 000,00"),
        ("1250000.5", "money", "1 250 000,50"),
        (12.5, "number", "12,5"),
        ("2026-11-27T10:15:00", "date", "27.11.2026"),
        ("2026-11-27T10:15:00", "datetime", "27.11.2026 10:15:00"),
        ("0001-01-01T00:00:00", "date", ""),
        (True, "text", "Да"),
        (None, "text", ""),
        ("ООО «Ромашка»", "text", "ООО «Ромашка»"),
    ],
)
def test_values_are_presented_as_1c_shows_them(value: object, fmt: str, expected: str) -> None:
    assert v.text(value, fmt, MSK) == expected


def test_a_filter_for_many_keys_uses_or_since_1c_has_no_in() -> None:
    assert v.any_of("Ref_Key", ["a", "b"]) == "Ref_Key eq guid'a' or Ref_Key eq guid'b'"


def answer(status: int, body: bytes, content_type: str = "application/json") -> Answer:
    return Answer("http://srv/uh/odata/standard.odata/Task?phone=7912", status, content_type, body)


def odata_body(code: str, message: str) -> bytes:
    error = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
    return json.dumps(error, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (404, "9", NotFound),
        (400, "6", InvalidRequest),
        (400, "14", InvalidRequest),
        (400, "15", InvalidRequest),
        (405, "19", InvalidRequest),
        (403, "20", AccessDenied),
        (400, "21", InvalidRequest),
        (500, "-1", UpstreamApplicationError),
        (412, "", VersionConflict),
        (418, "99", RequestRejected),
    ],
)
def test_odata_error_codes_become_typed_errors_keeping_1c_code_and_message(
    status: int, code: str, kind: type[Exception]
) -> None:
    error = odata_error(answer(status, odata_body(code, "Ошибка в 1С")))
    assert type(error) is kind
    if code and kind is not VersionConflict:
        assert isinstance(error, RequestRejected | UpstreamApplicationError | AccessDenied)
        assert error.code == code
        assert "Ошибка в 1С" in str(error)


def test_a_bare_500_is_retryable_and_names_the_url_without_its_query() -> None:
    error = odata_error(answer(502, b""))
    assert type(error) is UpstreamUnavailable
    assert "standard.odata/Task" in str(error)
    assert "7912" not in str(error)


def test_an_html_login_page_is_an_authentication_error_not_data() -> None:
    page = b"<!DOCTYPE html><html><body><form>Login</form></body></html>"
    with pytest.raises(AuthenticationFailed) as caught:
        answer(200, page, "text/html; charset=utf-8").json()
    assert "login page" in str(caught.value)
    with pytest.raises(AuthenticationFailed):
        answer(200, page, "application/json").json()  # mislabelled, still HTML


def test_truncated_json_is_a_malformed_answer_naming_the_url() -> None:
    with pytest.raises(MalformedAnswer) as caught:
        answer(200, '{"value": [{"Description": "Иванова'.encode()).json()
    assert "unreadable JSON from http://srv/uh/odata/standard.odata/Task" in str(caught.value)
    assert caught.value.retryable


def test_urls_in_messages_are_readable_and_carry_no_query() -> None:
    from adapters.onec.session import safe_url

    url = "http://srv:8080/uh/odata/standard.odata/Task_%D0%97%D0%B0%D0%B4%D0%B0%D1%87%D0%B0?x=1"
    assert safe_url(url) == "http://srv:8080/uh/odata/standard.odata/Task_Задача"
