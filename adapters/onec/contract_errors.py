"""Contract v1 error answers (`{"error": code, "message": str}`) as gateway errors."""

from __future__ import annotations

from typing import Any

from adapters.onec.contract_json import task_from_dict
from adapters.onec.session import UPSTREAM, Answer, safe_url
from gateway.domain.tasks import Task
from gateway.errors import (
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    MalformedAnswer,
    NotFound,
    NotPerformer,
    Refused,
    RequestRejected,
    StaleDecision,
    UpstreamApplicationError,
    UpstreamUnavailable,
)


def contract_error(answer: Answer) -> GatewayError:
    """The gateway error for a non-2xx answer of the HTTP service (or its SOAP twin)."""
    body: Any = {}
    if not answer.is_html and answer.body:
        try:
            body = answer.json()
        except MalformedAnswer:
            body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or f"http_{answer.status}")
    message = str(body.get("message") or "")
    return error_for(answer.status, code, message, body.get("task"), answer.url)


def error_for(
    status: int, code: str, message: str, task: object = None, url: str = ""
) -> GatewayError:
    """Map an HTTP status and contract error code to the gateway's hierarchy."""
    where = f" at {safe_url(url)}" if url else ""
    if status == 404 or code == "not_found":
        return NotFound(UPSTREAM, code, message or f"not found{where}")
    if code == "stale":
        # Checked before 409's usual meaning: the task is pending, only not as the card showed.
        return StaleDecision(UPSTREAM, message or "changed since the card", _task_or_none(task))
    if code == "refused":
        return Refused(UPSTREAM, message or f"1C refused to execute the decision{where}")
    if code == "unavailable":
        # A lock conflict or timeout in 1C: nothing was recorded, the same decision goes again.
        return UpstreamUnavailable(UPSTREAM, message or f"HTTP {status}{where}")
    if status == 409 or code == "already_completed":
        return AlreadyCompleted(
            UPSTREAM, message or "the task was already completed", _task_or_none(task)
        )
    if status == 403 or code == "not_performer":
        return NotPerformer(UPSTREAM, code, message or "the user is not the task's performer")
    if status in (400, 422) or code == "invalid":
        return InvalidRequest(UPSTREAM, code, message or f"invalid request{where}")
    if status >= 500:
        if message:
            return UpstreamApplicationError(UPSTREAM, code, message)
        return UpstreamUnavailable(UPSTREAM, f"HTTP {status}{where}")
    return RequestRejected(UPSTREAM, code, message or f"HTTP {status}{where}")


def _task_or_none(task: object) -> Task | None:
    """The task an error answer carries, if it reads as contract v1's `Task`."""
    if task is None:
        return None
    try:
        return task_from_dict(task)
    except ValueError:
        return None
