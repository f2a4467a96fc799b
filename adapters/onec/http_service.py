"""Connector for the gateway's HTTP service in 1C (contract v1, `contract/openapi.yaml`).

Reads pending tasks by paging `/tasks`, then follows the `/events` feed so a pass with nothing
changed costs one request; writes decisions with the approver's idempotency key, so a retry of
the same press is answered from 1C's memory of the first and applied once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from adapters.onec.contract_connector import PAGE_SIZE, PDF_MAGIC, ContractConnector, users_from
from adapters.onec.contract_errors import contract_error
from adapters.onec.contract_json import task_from_dict
from adapters.onec.pending import decided_elsewhere
from adapters.onec.session import UPSTREAM, Answer, OneCSession, safe_url
from gateway.domain.phones import normalize_phone
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import OneCUser, Task
from gateway.errors import MalformedAnswer, NotPerformer
from gateway.ports.onec import Connector


class HttpServiceConnector(ContractConnector):
    """The OneC port over contract v1 (`ONEC_CONNECTOR=http`)."""

    name = Connector.HTTP

    def __init__(
        self,
        session: OneCSession,
        base_url: str,
        *,
        page_size: int = PAGE_SIZE,
        infobase_url: str = "",
    ) -> None:
        self._base = base_url.rstrip("/")
        super().__init__(session, infobase_url or self._base.rsplit("/hs/", 1)[0], page_size)

    # --- reading -------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        """One task in any state."""
        answer = self._get(f"/tasks/{quote(task_id, safe='')}")
        return self._task(answer.json(), answer.url)

    def find_users_by_phone(self, phone: str) -> list[OneCUser]:
        """Valid 1C users with this phone."""
        answer = self._get("/users", params={"phone": "+" + normalize_phone(phone)})
        body = self._object(answer, "users")
        return users_from(body["users"], f"at {safe_url(answer.url)}")

    def print_form(self, task: Task) -> bytes | None:
        """1C's own print form of the task's subject, or None if 1C has none."""
        url = f"{self._base}/tasks/{quote(task.id, safe='')}/print"
        answer = self._session.request("GET", url)
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise contract_error(answer)
        if not answer.body.startswith(PDF_MAGIC):
            if answer.is_html:
                answer.json()  # raises the login-page error
            raise MalformedAnswer(UPSTREAM, f"{safe_url(url)} did not answer a PDF")
        return answer.body

    # --- writing -------------------------------------------------------------------------------

    def submit_decision(self, request: DecisionRequest) -> Task:
        """POST the decision with its idempotency key and the versions its card showed; the
        task's new state comes back (409 `stale`: StaleDecision; 422 `refused`: Refused)."""
        url = f"{self._base}/tasks/{quote(request.task_id, safe='')}/decision"
        body: dict[str, Any] = {
            "decision": request.decision.value,
            "comment": request.comment,
            "user_id": request.user_id,
            "idempotency_key": request.idempotency_key,
        }
        # What the card showed; left out when unknown (a decision queued before versions were
        # carried), so 1C compares nothing.
        if request.expected_version:
            body["expected_version"] = request.expected_version
        if request.expected_subject_version:
            body["expected_subject_version"] = request.expected_subject_version
        if request.telegram_user_id is not None:
            # Who pressed, for 1C's audit register; entries queued without it still decide.
            body["telegram_user"] = {
                "id": request.telegram_user_id,
                "name": request.telegram_user_name,
            }
        answer = self._session.request("POST", url, json_body=body)
        if answer.status != 200:
            error = contract_error(answer)
            if isinstance(error, NotPerformer):
                decided_elsewhere(error, self.get_task, request.task_id)
            raise error
        return self._decided(self._task(answer.json(), url))

    # --- internals -----------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, object] | None = None) -> Answer:
        answer = self._session.request("GET", self._base + path, params=params)
        if answer.status != 200:
            raise contract_error(answer)
        return answer

    def _object(self, answer: Answer, *keys: str) -> dict[str, Any]:
        body = answer.json()
        if not isinstance(body, dict) or any(k not in body for k in keys):
            raise MalformedAnswer(
                UPSTREAM,
                f"{safe_url(answer.url)} answered JSON without {', '.join(keys)} (contract v1)",
            )
        return body

    def _task(self, raw: Any, url: str) -> Task:
        try:
            return task_from_dict(raw)
        except ValueError as exc:
            raise MalformedAnswer(
                UPSTREAM, f"a task at {safe_url(url)} does not match contract v1: {exc}"
            ) from exc

    def _list_page(self, token: str | None, limit: int) -> tuple[list[Task], str | None]:
        params: dict[str, object] = {"limit": limit}
        if token:
            params["page_token"] = token
        answer = self._get("/tasks", params)
        body = self._object(answer, "tasks")
        tasks = [self._task(raw, answer.url) for raw in body["tasks"]]
        next_token = body.get("next_page_token")
        return tasks, str(next_token) if next_token else None

    def _events_page(self, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["after"] = cursor
        answer = self._get("/events", params)
        body = self._object(answer, "events", "cursor")
        new_cursor = body["cursor"]
        return list(body["events"]), str(new_cursor) if new_cursor is not None else None
