"""HTTP Basic checked as UTF-8: a Cyrillic login works only when sent as UTF-8."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

URLS = [
    "/odata/standard.odata/Catalog_Пользователи?$format=json",
    "/hs/approvals/v1/tasks",
    "/ws/approvals?wsdl",
]


def _basic(login: bytes, password: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(login + b":" + password).decode()}


@pytest.mark.parametrize("path", URLS)
def test_a_cyrillic_login_sent_as_utf8_is_accepted(onec: Any, path: str) -> None:
    with requests.get(
        onec.base_url + path, headers=_basic("Шлюз".encode(), b"sandbox"), timeout=10
    ) as answer:
        assert answer.status_code == 200


def test_the_same_login_sent_in_a_single_byte_encoding_is_refused(onec: Any) -> None:
    headers = _basic("Шлюз".encode("cp1251"), b"sandbox")
    with requests.get(onec.base_url + URLS[1], headers=headers, timeout=10) as answer:
        assert answer.status_code == 401


@pytest.mark.parametrize(
    "headers", [{}, _basic("Шлюз".encode(), b"wrong"), {"Authorization": "Bearer x"}]
)
def test_missing_or_wrong_credentials_get_401_with_1c_realm(
    onec: Any, headers: dict[str, str]
) -> None:
    with requests.get(onec.base_url + URLS[0], headers=headers, timeout=10) as answer:
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="1C:Enterprise"'


def test_the_request_log_names_the_user_and_the_control_api_needs_no_auth(
    onec: Any, http: requests.Session
) -> None:
    http.get(onec.base_url + URLS[1], params={"limit": 1}, timeout=10)
    entry = onec.client.requests_log()[-1]
    assert entry["user"] == "Шлюз"
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == (
        "GET",
        "/uh/hs/approvals/v1/tasks",
        "limit=1",
        200,
    )
