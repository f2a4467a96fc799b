"""1C's OData error answers (`{"odata.error": {"code", "message"}}`) as gateway errors.

Code -1 (HTTP 500) is "an exception in application code". On a decision's writes it is usually
the configuration refusing (its own check failed: design 6.13), which is final; but the platform
reports lock conflicts, lock timeouts and DBMS failures the same way, and those pass: they stay
retryable (`refusal_or_transient`)."""

from __future__ import annotations

from typing import Any, Final

from adapters.onec.session import UPSTREAM, Answer, safe_url
from gateway.errors import (
    AccessDenied,
    GatewayError,
    InvalidRequest,
    MalformedAnswer,
    NotFound,
    Refused,
    RequestRejected,
    UpstreamApplicationError,
    UpstreamUnavailable,
    VersionConflict,
)

INVALID_CODES = {"6", "14", "15", "19", "21"}
# How the platform words failures that pass by themselves (ru and en interfaces); matched
# lowercased, anywhere in 1C's text.
TRANSIENT_TEXTS: Final = (
    "конфликт блокировок",
    "превышено максимальное время ожидания предоставления блокировки",
    "lock conflict",
    "lock request timeout",
    "взаимоблокировк",
    "deadlock",
    "ошибка субд",
    "dbms error",
)


def is_transient(message: str) -> bool:
    """True for 1C's text of a failure that passes (a lock conflict or timeout, the DBMS)."""
    lowered = message.lower()
    return any(text in lowered for text in TRANSIENT_TEXTS)


def refusal_or_transient(error: UpstreamApplicationError) -> GatewayError:
    """A code -1 answer to a decision's write: Refused with 1C's text, unless it is a lock
    conflict, a lock timeout or a DBMS failure, which stay retryable."""
    if error.code != "-1" or not error.message or is_transient(error.message):
        return error
    return Refused(UPSTREAM, error.message)


def odata_error(answer: Answer) -> GatewayError:
    """The gateway error for a non-2xx OData answer, keeping 1C's code and message."""
    if answer.is_html:
        answer.json()  # raises the login-page error
    code, message = "", ""
    try:
        body: Any = answer.json() if answer.body else {}
    except MalformedAnswer:
        body = {}
    error = body.get("odata.error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code", ""))
        raw_message = error.get("message")
        message = str(raw_message.get("value", "")) if isinstance(raw_message, dict) else ""
    where = safe_url(answer.url)
    if answer.status == 412:
        return VersionConflict(UPSTREAM, "412", message or f"changed since read: {where}")
    if code == "9" or answer.status == 404:
        return NotFound(UPSTREAM, code or "404", message or f"not found: {where}")
    if code == "20" or answer.status == 403:
        return AccessDenied(UPSTREAM, code or "403", message or f"no rights for {where}")
    if code in INVALID_CODES or answer.status == 400:
        return InvalidRequest(UPSTREAM, code or "400", f"{message or 'bad request'} ({where})")
    if answer.status >= 500:
        if code or message:
            return UpstreamApplicationError(UPSTREAM, code or str(answer.status), message)
        return UpstreamUnavailable(UPSTREAM, f"HTTP {answer.status} at {where}")
    return RequestRejected(UPSTREAM, code or str(answer.status), message or where)
