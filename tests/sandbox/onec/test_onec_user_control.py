"""Control routes for 1C user cards: created for load tests, edited as an administrator would."""

from __future__ import annotations

import pytest

from sandbox.onec.client import SandboxError
from sandbox.onec.harness import RunningSandbox


def test_a_created_user_is_listed_with_its_phones(onec: RunningSandbox) -> None:
    user_id = onec.client.create_user("Тестов Тест Тестович", ["+7 (901) 000-00-01"])
    user = onec.client.user("Тестов")
    assert user["id"] == user_id
    assert user["phones"] == ["+79010000001"]
    assert not user["invalid"]


def test_the_same_user_cannot_be_created_twice(onec: RunningSandbox) -> None:
    onec.client.create_user("Тестов Тест Тестович", ["+7 (901) 000-00-01"], login="Тестов")
    with pytest.raises(SandboxError):
        onec.client.create_user("Тестов Тест Тестович", ["+7 (901) 000-00-02"], login="Тестов")


def test_an_edited_phone_and_validity_show_through_odata_and_the_http_service(
    onec: RunningSandbox, http
) -> None:
    user_id = onec.client.user("Волков")["id"]
    onec.client.edit_user(user_id, phones=["+7 (912) 999-77-66"], invalid=False)
    found = http.get(f"{onec.base_url}/hs/approvals/v1/users", params={"phone": "+79129997766"})
    assert [u["id"] for u in found.json()["users"]] == [user_id]
    old = http.get(f"{onec.base_url}/hs/approvals/v1/users", params={"phone": "+79129990011"})
    assert old.json()["users"] == []
    onec.client.edit_user(user_id, invalid=True)
    gone = http.get(f"{onec.base_url}/hs/approvals/v1/users", params={"phone": "+79129997766"})
    assert gone.json()["users"] == []
