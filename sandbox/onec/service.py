"""Contract-v1 operations over the model, shared by the HTTP service and the SOAP web service."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from sandbox.onec import addressing, contract, routing
from sandbox.onec.documents import presentation
from sandbox.onec.model import APPROVALS, USERS, Infobase, Task, is_pending
from sandbox.onec.print_form import render_pdf
from sandbox.onec.push import event_json
from sandbox.onec.seed import phone_digits
from sandbox.onec.state import Sandbox
from sandbox.onec.task_view import access_denied, rfc3339, task_json


class ContractError(Exception):
    """An error answer of contract v1: HTTP status, error code, message, optionally the task."""

    def __init__(
        self, status: int, code: str, message: str = "", task: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message
        self.task = task

    def body(self) -> dict[str, Any]:
        """The JSON body of the error."""
        body: dict[str, Any] = {"error": self.code}
        if self.message:
            body["message"] = self.message
        if self.task is not None:
            body["task"] = self.task
        return body

    @classmethod
    def from_body(cls, status: int, body: dict[str, Any]) -> ContractError:
        """The error again from a stored answer (idempotent replays)."""
        return cls(status, body["error"], body.get("message", ""), body.get("task"))


def list_tasks(ib: Infobase, limit: int, page_token: str | None) -> dict[str, Any]:
    """A page of pending tasks in creation order; the token says where the last page ended."""
    with ib.lock:
        after = _decode(ib, page_token) if page_token else 0
        page: list[Task] = []
        more = False
        for task in ib.tasks.values():
            if task.ordinal <= after or not is_pending(task, ib.approvals.get(task.approval)):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(task)
        token = _encode(ib, page[-1].ordinal) if more else None
        return {"tasks": [task_json(ib, task) for task in page], "next_page_token": token}


def get_task(ib: Infobase, task_id: str) -> dict[str, Any]:
    """A task in any state."""
    return task_json(ib, _task(ib, task_id))


def print_form(sandbox: Sandbox, task_id: str) -> bytes:
    """The PDF print form of the task's subject, rendered once per document version."""
    ib = sandbox.infobase
    with ib.lock:
        task = _task(ib, task_id)
        denied = access_denied(ib, task)
        if denied is not None:
            raise ContractError(404, "not_found", denied)
        document = ib.find_document(task.subject.ref)
        if document is None:
            raise ContractError(404, "not_found", "the task has no subject document")
        key = (str(document.ref), document.data_version)
        cached = sandbox.print_cache.get(key)
        if cached is None:
            cached = render_pdf(ib, document)
            sandbox.print_cache[key] = cached
        return cached


def submit_decision(ib: Infobase, task_id: str, body: Any) -> dict[str, Any]:
    """Decide a task: replay by idempotency key, then 404, 422, 403, 409, as design 5.4 orders."""
    key = body.get("idempotency_key") if isinstance(body, dict) else None
    key = key if isinstance(key, str) and key else None
    with ib.lock:
        if key is not None and key in ib.idempotency:
            status, answer = ib.idempotency[key]
            if status != 200:
                raise ContractError.from_body(status, answer)
            return answer
        try:
            answer = _decide(ib, task_id, body)
        except ContractError as error:
            # A lock conflict records nothing: the same decision may come again (design 6.13).
            if key is not None and error.status != 503:
                ib.idempotency[key] = (error.status, error.body())
            raise
        if key is not None:
            ib.idempotency[key] = (200, answer)
        return answer


def events(ib: Infobase, after: str | None, limit: int) -> dict[str, Any]:
    """Feed events after the cursor, oldest first, and the cursor to continue from."""
    with ib.lock:
        start = _decode(ib, after) if after else 0
        page = ib.events[start : start + limit]
        end = page[-1].seq if page else min(start, len(ib.events))
        return {"events": [event_json(e) for e in page], "cursor": _encode(ib, end)}


def users_by_phone(ib: Infobase, phone: str) -> dict[str, Any]:
    """Valid, not deletion-marked users having the phone (digits compared, 8… read as 7…)."""
    if phone.startswith(" "):
        # A raw `+` in a query string decodes to a space: the caller forgot to send it as %2B.
        raise ContractError(400, "invalid", "phone: send '+' as %2B")
    digits = phone_digits(phone)
    if not digits or any(ch not in "+0123456789()- " for ch in phone):
        raise ContractError(400, "invalid", "phone: digits with an optional leading '+'")
    found = []
    with ib.lock:
        for user in ib.catalog(USERS).values():
            if user.deletion_mark or user.attrs.get("Недействителен"):
                continue
            phones = [
                "+" + phone_digits(row["НомерТелефона"])
                for row in user.tables.get("КонтактнаяИнформация", [])
                if row.get("Тип") == "Телефон"
            ]
            if any(p[1:] == digits for p in phones):
                found.append({"id": str(user.ref), "name": user.description, "phones": phones})
    return {"users": found}


def _decide(ib: Infobase, task_id: str, body: Any) -> dict[str, Any]:
    task = _task(ib, task_id)
    if task.ref in ib.locked_tasks:
        # The extension locks the task first; a 1C session holding it makes the wait time out.
        raise ContractError(
            503,
            "unavailable",
            "Конфликт блокировок при выполнении транзакции: "
            "превышено максимальное время ожидания предоставления блокировки",
        )
    if not isinstance(body, dict):
        raise ContractError(422, "invalid", "the body must be a JSON object")
    problems = contract.errors(body, contract.schema("DecisionRequest"))
    if problems:
        raise ContractError(422, "invalid", "; ".join(problems))
    if task.process_set != APPROVALS:
        raise ContractError(
            422, "invalid", f"the task belongs to {task.process_set}, not to an approval process"
        )
    decision = body["decision"]
    if decision not in routing.allowed_decisions(task):
        raise ContractError(
            422, "invalid", f"decision {decision} is not offered at stage {task.stage_number}"
        )
    user = uuid.UUID(body["user_id"])
    pending = is_pending(task, ib.approvals.get(task.approval))
    allowed = addressing.candidates(ib, task) if pending else addressing.addressees(ib, task)
    if user not in allowed:
        raise ContractError(403, "not_performer", "user_id is not a performer of the task")
    if not pending:
        raise ContractError(
            409, "already_completed", "the task is no longer pending", task_json(ib, task)
        )
    _check_versions(ib, task, body)
    try:
        # A role task gets the deciding user as Исполнитель (and is accepted) before it is
        # executed, as the extension does; an empty one would become the service user.
        routing.execute_task(ib, task, decision, body["comment"], user)
    except routing.Refused as exc:
        _audit(ib, task, user, body, "refused", str(exc))
        raise ContractError(422, "refused", str(exc)) from exc
    _audit(ib, task, user, body, "applied", "")
    return task_json(ib, task)


def _audit(
    ib: Infobase, task: Task, user: uuid.UUID, body: dict[str, Any], outcome: str, message: str
) -> None:
    """A record of the extension's register тг_РешенияИзTelegram (read by GET /_sandbox/audit)."""
    account = body.get("telegram_user") or {}
    document = ib.find_document(task.subject.ref)
    ib.audit.append(
        {
            "at": rfc3339(ib.clock()),
            "task_id": str(task.ref),
            "document": presentation(document) if document else task.subject_name,
            "user_id": str(user),
            "user_name": ib.user_name(user),
            "telegram_id": account.get("id"),
            "telegram_name": account.get("name"),
            "decision": body["decision"],
            "comment": body["comment"],
            "idempotency_key": body["idempotency_key"],
            "outcome": outcome,
            "message": message,
        }
    )


def _check_versions(ib: Infobase, task: Task, body: dict[str, Any]) -> None:
    """409 `stale` when the task or its subject changed since the approver's card was built."""
    shown = task_json(ib, task)
    expected = body.get("expected_version")
    if expected is not None and expected != shown["version"]:
        raise ContractError(409, "stale", "the task changed since it was shown", shown)
    expected_subject = body.get("expected_subject_version")
    if expected_subject is not None and expected_subject != shown["subject"]["version"]:
        raise ContractError(409, "stale", "the document changed since it was shown", shown)


def _task(ib: Infobase, task_id: str) -> Task:
    try:
        ref = uuid.UUID(task_id)
    except ValueError:
        raise ContractError(404, "not_found", "no such task") from None
    task = ib.tasks.get(ref)
    if task is None:
        raise ContractError(404, "not_found", "no such task")
    return task


def _encode(ib: Infobase, position: int) -> str:
    return base64.urlsafe_b64encode(f"{ib.epoch}:{position}".encode()).decode().rstrip("=")


def _decode(ib: Infobase, token: str) -> int:
    """A position from a token; a token of an earlier epoch (before a reset) starts over."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        epoch, position = (int(part) for part in text.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ContractError(400, "invalid", "malformed page_token or cursor") from None
    if position < 0:
        raise ContractError(400, "invalid", "malformed page_token or cursor")
    return position if epoch == ib.epoch else 0
