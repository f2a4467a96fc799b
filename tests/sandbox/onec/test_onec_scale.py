"""Ten thousand pending tasks: bulk seeding is quick and paged reads stay fast."""

from __future__ import annotations

import time
from typing import Any

import requests

TASKS = "/odata/standard.odata/Task_ЗадачаИсполнителя"


def test_ten_thousand_pending_tasks_page_quickly_over_odata_and_http(
    onec: Any, http: requests.Session
) -> None:
    started = time.monotonic()
    onec.client.bulk_seed(10_000)
    assert time.monotonic() - started < 20
    params = {
        "$format": "json",
        "$filter": "Executed eq false and DeletionMark eq false",
        "$orderby": "Date,Ref_Key",
        "$select": "Ref_Key,DataVersion",
        "$top": "500",
        "$skip": "9500",
        "$inlinecount": "allpages",
    }
    started = time.monotonic()
    page = http.get(onec.base_url + TASKS, params=params, timeout=30).json()
    assert time.monotonic() - started < 3
    assert page["odata.count"] == "10005" and len(page["value"]) == 500
    started = time.monotonic()
    listing = http.get(
        onec.base_url + "/hs/approvals/v1/tasks", params={"limit": 1000}, timeout=30
    ).json()
    assert time.monotonic() - started < 5
    assert len(listing["tasks"]) == 1000 and listing["next_page_token"]
