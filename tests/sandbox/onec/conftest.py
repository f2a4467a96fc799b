"""Fixtures for the 1C emulator's tests, over `onec` from tests/conftest.py (one emulator for the
session, reseeded before each test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.onec.harness import RunningSandbox

ODATA = "/odata/standard.odata"
HS = "/hs/approvals/v1"
TASKS = "Task_ЗадачаИсполнителя"


@pytest.fixture
def http(onec: RunningSandbox) -> Iterator[requests.Session]:
    """A session authenticated as the publication's user (Cyrillic login, sent as UTF-8)."""
    session = onec.session()
    yield session
    session.close()


@pytest.fixture
def users(onec: RunningSandbox) -> dict[str, dict[str, Any]]:
    """Seeded users by surname (first word of the full name)."""
    return {user["name"].split()[0]: user for user in onec.client.users()}


@pytest.fixture
def people(users: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Seeded user ids by surname."""
    return {surname: user["id"] for surname, user in users.items()}


class OData:
    """Small helper for OData calls in tests: URLs and JSON reads."""

    def __init__(self, onec: RunningSandbox, session: requests.Session) -> None:
        self.root = onec.base_url + ODATA
        self.session = session

    def url(self, resource: str) -> str:
        """The absolute URL of a resource under the OData root."""
        return f"{self.root}/{resource}"

    def get(self, resource: str, **params: Any) -> requests.Response:
        """GET as JSON (`$format=json` unless given)."""
        params.setdefault("$format", "json")
        return self.session.get(self.url(resource), params=params, timeout=30)

    def rows(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        """The `value` rows of a collection (asserting 200)."""
        answer = self.get(resource, **params)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["value"]
        return rows

    def entity(self, resource: str, **params: Any) -> dict[str, Any]:
        """One entity (asserting 200)."""
        answer = self.get(resource, **params)
        assert answer.status_code == 200, answer.text
        entity: dict[str, Any] = answer.json()
        return entity

    @staticmethod
    def error(answer: requests.Response) -> tuple[str, str]:
        """(code, message) of an `odata.error` body."""
        error = answer.json()["odata.error"]
        assert error["message"]["lang"] == "ru"
        return error["code"], error["message"]["value"]

    def pending(self, performer: str) -> list[dict[str, Any]]:
        """The performer's pending tasks, oldest first."""
        return self.rows(
            TASKS,
            **{
                "$filter": f"Executed eq false and DeletionMark eq false and "
                f"Исполнитель eq cast(guid'{performer}', 'Catalog_Пользователи')",
                "$orderby": "Date",
            },
        )

    def task_url(self, task_id: str, tail: str = "") -> str:
        """`Task_ЗадачаИсполнителя(guid'…')[/tail]`."""
        return self.url(f"{TASKS}(guid'{task_id}')" + (f"/{tail}" if tail else ""))


@pytest.fixture
def odata(onec: RunningSandbox, http: requests.Session) -> OData:
    """OData helper bound to the reseeded emulator."""
    return OData(onec, http)
