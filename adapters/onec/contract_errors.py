"""Contract v1 error answers (`{"error": code, "message": str}`) as gateway errors."""

from __future__ import annotations

from typing import Any

from adapters.onec.session import UPSTREAM, Answer, safe_url
from gateway.errors import (
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    MalformedAnswer,
    NotFound,
    NotPerformer,
    RequestRejected,
    UpstreamApplicationError,
    UpstreamUnavailable,
)
from gateway.task_json import task_from_dict


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
    if status == 409 or code == "already_completed":
        current = None
        if task is not None:
            try:
                current = task_from_dict(task)
            except ValueError:
                current = None
        return AlreadyCompleted(UPSTREAM, message or "the task was already completed", current)
    if status == 403 or code == "not_performer":
        return NotPerformer(UPSTREAM, code, message or "the user is not the task's performer")
    if status in (400, 422) or code == "invalid":
        return InvalidRequest(UPSTREAM, code, message or f"invalid request{where}")
    if status >= 500:
        if message:
            return UpstreamApplicationError(UPSTREAM, code, message)
        return UpstreamUnavailable(UPSTREAM, f"HTTP {status}{where}")
    return RequestRejected(UPSTREAM, code, message or f"HTTP {status}{where}")
