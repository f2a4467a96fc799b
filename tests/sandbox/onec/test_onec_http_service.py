"""The HTTP service, contract v1: answers match openapi.yaml; paging, decisions, feed, users."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from sandbox.onec import contract


class Service:
    """Calls to `<base>/hs/approvals/v1` that check every JSON answer against the OpenAPI schema."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.root = base_url + "/hs/approvals/v1"
        self.session = session

    def call(self, method: str, path: str, schema: str | None, **kwargs: Any) -> requests.Response:
        answer = self.session.request(method, self.root + path, timeout=30, **kwargs)
        if schema is not None:
            assert answer.headers["Content-Type"].startswith("application/json")
            problems = contract.errors(answer.json(), contract.schema(schema))
            assert problems == [], problems
        return answer

    def decide(self, task_id: str, **body: Any) -> requests.Response:
        answer = self.session.post(f"{self.root}/tasks/{task_id}/decision", json=body, timeout=30)
        schema = {200: "Task", 409: "AlreadyCompleted"}.get(answer.status_code, "Error")
        assert contract.errors(answer.json(), contract.schema(schema)) == []
        return answer

    def approve(self, task_id: str, user_id: str, key: str) -> requests.Response:
        """Approve the task as this user, without a comment, under this idempotency key."""
        return self.decide(task_id, **_approval(user_id, key))


def _approval(user_id: str, key: str, comment: str = "") -> dict[str, Any]:
    """A decision body approving as this user under this idempotency key."""
    return {"decision": "approve", "comment": comment, "user_id": user_id, "idempotency_key": key}


@pytest.fixture
def hs(onec: Any, http: requests.Session) -> Service:
    return Service(onec.base_url, http)


def _first_pending(hs: Service, surname: str) -> dict[str, Any]:
    tasks = hs.call("GET", "/tasks", "TaskPage").json()["tasks"]
    return next(t for t in tasks if t["performer"]["name"].startswith(surname))


def test_openapi_document_declares_every_route_of_design_5_4() -> None:
    paths = contract.spec()["paths"]
    assert set(paths) == {
        "/tasks",
        "/tasks/{id}",
        "/tasks/{id}/print",
        "/tasks/{id}/decision",
        "/events",
        "/users",
    }
    assert set(contract.schema("Task")["required"]) == {
        "id",
        "version",
        "number",
        "created_at",
        "due_at",
        "importance",
        "state",
        "title",
        "performer",
        "initiator",
        "stage",
        "subject",
        "allowed_decisions",
        "result",
    }


def test_task_list_pages_with_an_opaque_token_until_null(hs: Service) -> None:
    seen: list[str] = []
    token = None
    while True:
        params = {"limit": 2, **({"page_token": token} if token else {})}
        page = hs.call("GET", "/tasks", "TaskPage", params=params).json()
        seen += [t["id"] for t in page["tasks"]]
        token = page["next_page_token"]
        if token is None:
            break
        assert not token.isdigit()
    assert len(seen) == len(set(seen)) == 5


def test_tasks_carry_contract_shapes_rfc3339_offsets_and_stage(hs: Service) -> None:
    task = _first_pending(hs, "Петрова")
    assert task["created_at"].endswith("+03:00")
    assert task["importance"] == "normal" and task["state"] == "pending"
    assert task["stage"] == {"name": "Согласование руководителем", "number": 1, "count": 3}
    assert task["subject"]["type"] == "Document_ЗаявкаНаРасходованиеДенежныхСредств"
    assert {"name": "Сумма", "value": "1 250 000,00"} in task["subject"]["fields"]
    assert task["allowed_decisions"] == ["approve", "return_initiator"]
    no_due = _first_pending(hs, "Сидорова")
    assert no_due["due_at"] is None


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "x"}, {"limit": "5000"}, {"page_token": "@@@"}]
)
def test_a_bad_query_parameter_answers_400_invalid(hs: Service, params: dict[str, str]) -> None:
    answer = hs.call("GET", "/tasks", "Error", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid"


def test_an_unknown_task_is_404_not_found(hs: Service) -> None:
    answer = hs.call("GET", f"/tasks/{uuid.uuid4()}", "Error")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert hs.call("GET", "/tasks/nonsense/print", "Error").status_code == 404


def test_print_form_is_a_pdf_with_the_number_and_amount_as_text(hs: Service) -> None:
    task = _first_pending(hs, "Петрова")
    answer = hs.call("GET", f"/tasks/{task['id']}/print", None)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert "0000-000001" in text
    assert "1 250 000,00" in text
    assert "Заявка на расходование денежных средств" in text


def test_approve_moves_the_route_and_answers_the_completed_task(hs: Service, users: Any) -> None:
    task = _first_pending(hs, "Петрова")
    answer = hs.approve(task["id"], users["Петрова"]["id"], "k1")
    done = answer.json()
    assert answer.status_code == 200
    assert done["state"] == "completed" and done["allowed_decisions"] == []
    assert (
        done["result"]["decision"] == "approve"
        and done["result"]["user_id"] == users["Петрова"]["id"]
    )
    following = _first_pending(hs, "Морозов")
    assert following["stage"]["number"] in (1, 2)


def test_the_same_idempotency_key_replays_the_first_answer_and_changes_nothing(
    hs: Service, users: Any
) -> None:
    task = _first_pending(hs, "Петрова")
    body = _approval(users["Петрова"]["id"], "press-1", comment="ok")
    first = hs.decide(task["id"], **body)
    events = hs.call("GET", "/events", "EventPage", params={"limit": 1000}).json()["events"]
    again = hs.decide(task["id"], **{**body, "decision": "return_initiator"})
    assert again.status_code == 200 and again.json() == first.json()
    assert hs.call("GET", "/events", "EventPage", params={"limit": 1000}).json()["events"] == events


def test_an_error_answer_is_replayed_for_its_key_too(hs: Service, users: Any) -> None:
    task = _first_pending(hs, "Петрова")
    wrong = _approval(users["Волков"]["id"], "press-2")
    assert hs.decide(task["id"], **wrong).status_code == 403
    right_user = {**wrong, "user_id": users["Петрова"]["id"]}
    assert hs.decide(task["id"], **right_user).status_code == 403
    assert hs.call("GET", f"/tasks/{task['id']}", "Task").json()["state"] == "pending"


def test_decision_checks_404_before_422_before_403_before_409(hs: Service, users: Any) -> None:
    task = _first_pending(hs, "Петрова")
    petrova, volkov = users["Петрова"]["id"], users["Волков"]["id"]
    bad = {"decision": "reject", "comment": "", "user_id": volkov, "idempotency_key": "a"}
    assert hs.decide(str(uuid.uuid4()), **bad).json()["error"] == "not_found"
    invalid = hs.decide(task["id"], **{**bad, "idempotency_key": "a2"})
    assert invalid.status_code == 422 and invalid.json()["error"] == "invalid"
    unoffered = {
        "decision": "return_previous",
        "comment": "",
        "user_id": volkov,
        "idempotency_key": "b",
    }
    assert hs.decide(task["id"], **unoffered).status_code == 422
    foreign = {"decision": "approve", "comment": "", "user_id": volkov, "idempotency_key": "c"}
    assert hs.decide(task["id"], **foreign).json()["error"] == "not_performer"
    hs.decide(task["id"], decision="approve", comment="", user_id=petrova, idempotency_key="d")
    late = hs.decide(
        task["id"], decision="approve", comment="", user_id=volkov, idempotency_key="e"
    )
    assert late.status_code == 403
    again = hs.decide(
        task["id"], decision="approve", comment="", user_id=petrova, idempotency_key="f"
    )
    assert again.status_code == 409 and again.json()["task"]["state"] == "completed"


def test_a_decision_on_a_cancelled_task_is_409_with_state_cancelled(
    onec: Any, hs: Service, users: Any
) -> None:
    task = _first_pending(hs, "Петрова")
    onec.client.cancel_approval(task["subject"]["id"])
    answer = hs.approve(task["id"], users["Петрова"]["id"], "x")
    assert answer.status_code == 409
    assert answer.json()["error"] == "already_completed"
    assert answer.json()["task"]["state"] == "cancelled"


def test_a_body_that_is_not_json_is_422_invalid(hs: Service) -> None:
    task = _first_pending(hs, "Петрова")
    answer = hs.session.post(f"{hs.root}/tasks/{task['id']}/decision", data=b"nope", timeout=30)
    assert answer.status_code == 422 and answer.json()["error"] == "invalid"


def test_event_feed_starts_at_the_beginning_and_continues_from_the_cursor(
    hs: Service, users: Any
) -> None:
    first = hs.call("GET", "/events", "EventPage", params={"limit": 3}).json()
    assert [e["seq"] for e in first["events"]] == [1, 2, 3]
    rest = hs.call(
        "GET", "/events", "EventPage", params={"after": first["cursor"], "limit": 1000}
    ).json()
    assert rest["events"][0]["seq"] == 4
    idle = hs.call("GET", "/events", "EventPage", params={"after": rest["cursor"]}).json()
    assert idle == {"events": [], "cursor": rest["cursor"]}
    task = _first_pending(hs, "Петрова")
    hs.approve(task["id"], users["Петрова"]["id"], "ev")
    news = hs.call("GET", "/events", "EventPage", params={"after": rest["cursor"]}).json()["events"]
    assert [e["type"] for e in news] == ["completed", "created"]
    assert news[0]["task_id"] == task["id"] and news[0]["at"].endswith("+03:00")


def test_a_malformed_cursor_is_400_invalid(hs: Service) -> None:
    assert hs.call("GET", "/events", "Error", params={"after": "%%%"}).status_code == 400


def test_users_by_phone_finds_two_users_sharing_a_number(hs: Service) -> None:
    found = hs.call("GET", "/users", "UserList", params={"phone": "+79225554433"}).json()["users"]
    assert sorted(u["name"] for u in found) == [
        "Сидоров Павел Николаевич",
        "Сидорова Елена Викторовна",
    ]


def test_users_by_phone_reads_8_as_7_and_lists_all_phones(hs: Service) -> None:
    found = hs.call("GET", "/users", "UserList", params={"phone": "83432100001"}).json()["users"]
    assert found == [
        {
            "id": found[0]["id"],
            "name": "Петрова Анна Сергеевна",
            "phones": ["+79121112233", "+73432100001"],
        }
    ]


def test_users_by_phone_leaves_out_invalid_and_deletion_marked_users(hs: Service) -> None:
    assert hs.call("GET", "/users", "UserList", params={"phone": "+79001002030"}).json() == {
        "users": []
    }
    assert hs.call("GET", "/users", "UserList", params={"phone": "+79120000001"}).json() == {
        "users": []
    }


def test_a_plus_sent_raw_instead_of_2b_is_refused(hs: Service) -> None:
    raw = hs.session.get(hs.root + "/users?phone=+79123456789", timeout=30)
    assert raw.status_code == 400 and raw.json()["error"] == "invalid"
    encoded = hs.session.get(hs.root + "/users?phone=%2B79123456789", timeout=30)
    assert [u["name"] for u in encoded.json()["users"]] == ["Иванов Иван Петрович"]


def test_users_without_a_phone_parameter_is_400(hs: Service) -> None:
    assert hs.call("GET", "/users", "Error").status_code == 400
