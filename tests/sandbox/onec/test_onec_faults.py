"""Injected faults hit the 1C routes only; control keeps working; timed faults clear themselves."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

TASKS_URL = "/odata/standard.odata/Task_ЗадачаИсполнителя?$format=json&$top=1"


def test_down_drops_the_connection_without_an_answer(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("down")
    with pytest.raises(requests.ConnectionError):
        http.get(onec.base_url + TASKS_URL, timeout=10)
    assert onec.client.users()
    assert onec.client.requests_log()[-1]["status"] is None


def test_down_for_some_seconds_clears_itself(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("down", seconds=0.3)
    with pytest.raises(requests.ConnectionError):
        http.get(onec.base_url + TASKS_URL, timeout=10)
    time.sleep(0.4)
    assert http.get(onec.base_url + TASKS_URL, timeout=10).status_code == 200


def test_slow_delays_answers_by_seconds(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("slow", seconds=0.5)
    started = time.monotonic()
    assert http.get(onec.base_url + TASKS_URL, timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.5
    with pytest.raises(requests.Timeout):
        http.get(onec.base_url + TASKS_URL, timeout=0.2)


def test_error500_answers_odata_error_code_minus_one(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("error500")
    answer = http.get(onec.base_url + "/hs/approvals/v1/tasks", timeout=10)
    assert answer.status_code == 500
    assert answer.json()["odata.error"]["code"] == "-1"


def test_html_login_answers_a_login_page_with_200(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("html_login")
    answer = http.get(onec.base_url + TASKS_URL, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "1С:Предприятие" in answer.text and "password" in answer.text


def test_truncated_cuts_the_json_mid_way(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("truncated")
    answer = http.get(onec.base_url + TASKS_URL, timeout=10)
    assert answer.status_code == 200
    assert len(answer.content) == int(answer.headers["Content-Length"])
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_none_clears_a_fault_and_reset_clears_it_too(onec: Any, http: requests.Session) -> None:
    onec.client.set_fault("error500")
    onec.client.clear_fault()
    assert http.get(onec.base_url + TASKS_URL, timeout=10).status_code == 200
    onec.client.set_fault("error500")
    onec.client.reset()
    assert http.get(onec.base_url + TASKS_URL, timeout=10).status_code == 200


def test_an_unknown_mode_is_refused(onec: Any) -> None:
    with requests.post(onec.url + "/_sandbox/faults", json={"mode": "flaky"}, timeout=10) as answer:
        assert answer.status_code == 400
