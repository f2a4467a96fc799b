"""Connector for the approvals SOAP web service in 1C (`ONEC_CONNECTOR=soap`), through zeep.

The same operations and behaviour as the HTTP service connector (contract v1): a paged task list,
then the event feed, so a pass with nothing changed costs one call; decisions carry the
approver's idempotency key. zeep only builds and reads envelopes: every byte goes through the
shared OneCSession (UTF-8 Basic auth, timeouts, retries of reads, failures named once), and the
service address comes from ONEC_BASE_URL, never from the WSDL's soap:address, which a
publication often fills with an internal host name. The WSDL is loaded on first use, not at
construction, and kept.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree

from adapters.onec.contract_connector import PAGE_SIZE, PDF_MAGIC, ContractConnector, users_from
from adapters.onec.contract_errors import contract_error, error_for
from adapters.onec.contract_json import task_from_dict
from adapters.onec.pending import decided_elsewhere
from adapters.onec.session import UPSTREAM, Answer, OneCSession, safe_url
from gateway.domain.phones import normalize_phone
from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import OneCUser, Task
from gateway.errors import (
    AuthenticationFailed,
    ConfigurationError,
    GatewayError,
    MalformedAnswer,
    NotFound,
    NotPerformer,
    UpstreamUnavailable,
)
from gateway.ports.onec import Connector

NAMESPACE: Final = "http://tg1c.ru/approvals/v1"
BINDING: Final = f"{{{NAMESPACE}}}ApprovalsSoapBinding"  # SOAP 1.1, which every 1C publishes
FAULT_DETAIL: Final = f"{{{NAMESPACE}}}ApprovalsFault"
_CONTRACT_CODE_IN_TEXT: Final = re.compile(
    r"\b(not_found|already_completed|not_performer|invalid|stale|refused|unavailable)\s*:\s*(.*)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Reply:
    """The parts of a `requests.Response` zeep reads when it parses an answer."""

    status_code: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"


class _SessionTransport:
    """zeep's transport, duck-typed, over OneCSession: zeep never opens a connection itself."""

    def __init__(self, session: OneCSession) -> None:
        self._session = session

    def load(self, url: str) -> bytes:
        """The WSDL (or a schema it imports); failures say which document could not be had."""
        answer = self._session.request("GET", url)
        if answer.status == 404:
            raise ConfigurationError(
                f"1C has no WSDL at {safe_url(url)} (HTTP 404): check ONEC_SOAP_WSDL and that "
                "the approvals web service is published"
            )
        if answer.status != 200:
            raise UpstreamUnavailable(
                UPSTREAM, f"could not load the WSDL from {safe_url(url)} (HTTP {answer.status})"
            )
        if answer.is_html:
            raise AuthenticationFailed(_html_message(answer, "the WSDL"))
        return answer.body

    def post_xml(self, address: str, envelope: etree._Element, headers: dict[str, str]) -> _Reply:
        """POST one envelope; answers that are not SOAP at all are named here, not by zeep."""
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        answer = self._session.request("POST", address, data=body, headers=headers)
        if answer.status == 200 and answer.is_html:
            raise AuthenticationFailed(_html_message(answer, "a SOAP envelope"))
        if answer.status != 200 and (answer.is_html or "xml" not in answer.content_type):
            # A web server's or proxy's own error page: no fault to read.
            if answer.status == 404:
                # Not NotFound: that would read as "the task is gone" to the sync pass.
                raise ConfigurationError(
                    f"1C has no SOAP service at {safe_url(address)} (HTTP 404): check "
                    "ONEC_BASE_URL and that the approvals web service is published"
                )
            raise contract_error(answer)
        return _Reply(answer.status, answer.body, {"Content-Type": answer.content_type})


class SoapConnector(ContractConnector):
    """The OneC port over the approvals SOAP web service (`ONEC_CONNECTOR=soap`)."""

    name = Connector.SOAP

    def __init__(
        self,
        session: OneCSession,
        wsdl_url: str,
        address: str,
        *,
        page_size: int = PAGE_SIZE,
        infobase_url: str = "",
    ) -> None:
        super().__init__(session, infobase_url or address.rsplit("/ws/", 1)[0], page_size)
        self._wsdl_url = wsdl_url
        self._address = address
        self._lock = threading.Lock()
        self._client: Any = None  # zeep.Client; zeep's API is untyped
        self._service: Any = None

    # --- reading -------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        """One task in any state."""
        return self._task(self._call("GetTask", id=task_id))

    def find_users_by_phone(self, phone: str) -> list[OneCUser]:
        """Valid 1C users with this phone."""
        raw = self._call("FindUsersByPhone", phone="+" + normalize_phone(phone))
        return users_from(_contract_users(raw), "from FindUsersByPhone")

    def print_form(self, task: Task) -> bytes | None:
        """1C's own print form of the task's subject, or None if 1C has none."""
        try:
            content = self._call("GetPrintForm", id=task.id)
        except NotFound:
            return None
        if not content:
            return None
        if not isinstance(content, bytes) or not content.startswith(PDF_MAGIC):
            raise MalformedAnswer(UPSTREAM, "GetPrintForm did not answer a PDF")
        return content

    # --- writing -------------------------------------------------------------------------------

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Call SubmitDecision with the idempotency key; the task's new state comes back."""
        try:
            answer = self._call(
                "SubmitDecision",
                task_id=request.task_id,
                decision=request.decision.value,
                comment=request.comment,
                user_id=request.user_id,
                idempotency_key=request.idempotency_key,
                # What the card showed; left out when unknown (a decision queued before
                # versions were carried), so 1C compares nothing.
                expected_version=request.expected_version or None,
                expected_subject_version=request.expected_subject_version or None,
                # Who pressed, for 1C's audit register.
                telegram_user_id=request.telegram_user_id,
                telegram_user_name=request.telegram_user_name or None,
            )
        except NotPerformer as refusal:
            decided_elsewhere(refusal, self.get_task, request.task_id)
            raise
        return self._decided(self._task(answer))

    # --- internals -----------------------------------------------------------------------------

    def _proxy(self) -> Any:
        """The zeep service bound to ONEC_BASE_URL's address; the WSDL is read on first use."""
        with self._lock:
            if self._service is None:
                client = self._load_client()
                try:
                    self._service = client.create_service(BINDING, self._address)
                except ValueError as exc:
                    raise ConfigurationError(
                        f"the WSDL at {safe_url(self._wsdl_url)} has no binding {BINDING}: "
                        "is ONEC_SOAP_WSDL the tg1c approvals web service?"
                    ) from exc
                self._client = client
            return self._service

    def _load_client(self) -> Any:
        where = safe_url(self._wsdl_url)
        try:
            return zeep.Client(  # type: ignore[no-untyped-call]
                self._wsdl_url, transport=_SessionTransport(self._session)
            )
        except UpstreamUnavailable as exc:
            if type(exc) is not UpstreamUnavailable:
                raise
            # The session names the URL and the failure; say it was the WSDL that failed.
            raise UpstreamUnavailable(UPSTREAM, f"could not load the WSDL: {exc.reason}") from exc
        except GatewayError:
            raise
        except (zeep.exceptions.XMLSyntaxError, etree.XMLSyntaxError) as exc:
            raise MalformedAnswer(UPSTREAM, f"unreadable WSDL from {where}: {exc}") from exc
        except (zeep.exceptions.Error, ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"the WSDL at {where} is not a usable service description: {exc}"
            ) from exc

    def _call(self, operation: str, **params: Any) -> Any:
        """One SOAP call; zeep's exceptions become gateway errors here and nowhere else."""
        service = self._proxy()
        try:
            answer = getattr(service, operation)(**params)
        except zeep.exceptions.Fault as exc:
            raise self._fault_error(exc) from exc
        except zeep.exceptions.TransportError as exc:
            # zeep's message quotes the whole body; name the size instead.
            raise MalformedAnswer(
                UPSTREAM,
                f"unreadable XML from {safe_url(self._address)} ({operation}, HTTP "
                f"{exc.status_code}, {len(exc.content or b'')} bytes)",
            ) from exc
        except (zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
            raise MalformedAnswer(
                UPSTREAM, f"unreadable XML from {safe_url(self._address)} ({operation}): {exc}"
            ) from exc
        return _serialized(answer)

    def _fault_error(self, fault: zeep.exceptions.Fault) -> GatewayError:
        """The typed error for a fault: its ApprovalsFault code, or 1C's own fault as it came."""
        detail = self._fault_detail(fault)
        receiver = str(fault.code or "").rsplit(":", 1)[-1] in ("Server", "Receiver")
        code = str(detail.get("code") or fault.code or "soap_fault")
        message = str(detail.get("message") or fault.message or "")
        if not detail.get("code"):
            # Our 1C extension raises "<code>: <message>"; the platform puts that text, behind
            # its own prefix, into faultstring with no detail element.
            found = _CONTRACT_CODE_IN_TEXT.search(message)
            if found:
                code, message = found[1], found[2].strip()
                receiver = False
        task = detail.get("task")
        if task is not None:
            try:
                task = _contract_task(task)
            except (KeyError, TypeError, AttributeError):
                task = None
        # Status 0 for a sender's fault: the code alone decides, unknown codes are rejections.
        return error_for(500 if receiver else 0, code, message, task, self._address)

    def _fault_detail(self, fault: zeep.exceptions.Fault) -> dict[str, Any]:
        if fault.detail is None or self._client is None:
            return {}
        element = fault.detail.find(FAULT_DETAIL)
        if element is None:
            return {}
        try:
            value = self._client.get_element(FAULT_DETAIL).parse(element, self._client.wsdl.types)
        except (zeep.exceptions.Error, ValueError) as exc:
            # An odd detail still has a code and message worth keeping.
            return {
                "code": element.findtext(f"{{{NAMESPACE}}}code"),
                "message": element.findtext(f"{{{NAMESPACE}}}message") or str(exc),
            }
        detail = _serialized(value)
        return detail if isinstance(detail, dict) else {}

    def _task(self, raw: Any) -> Task:
        try:
            return task_from_dict(_contract_task(raw))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedAnswer(
                UPSTREAM, f"a task from {safe_url(self._address)} does not match contract v1: {exc}"
            ) from exc

    def _list_page(self, token: str | None, limit: int) -> tuple[list[Task], str | None]:
        page = self._call("ListTasks", limit=limit, page_token=token)
        if not isinstance(page, dict):
            raise MalformedAnswer(UPSTREAM, "ListTasks answered no TaskPage")
        tasks = [self._task(raw) for raw in page.get("tasks") or []]
        next_token = page.get("next_page_token")
        return tasks, str(next_token) if next_token else None

    def _events_page(self, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        page = self._call("GetEvents", after=cursor, limit=limit)
        if not isinstance(page, dict) or "cursor" not in page:
            raise MalformedAnswer(UPSTREAM, "GetEvents answered no EventPage")
        new_cursor = page["cursor"]
        return list(page.get("events") or []), str(new_cursor) if new_cursor is not None else None


def _serialized(value: Any) -> Any:
    """zeep's objects as plain dicts and lists."""
    return zeep.helpers.serialize_object(value, dict)  # type: ignore[no-untyped-call]


def _contract_task(raw: Any) -> dict[str, Any]:
    """A zeep Task (as dicts) in contract v1's JSON shape, for `task_from_dict`.

    zeep gives datetimes (not RFC 3339 text), None for empty strings, a nil `result` as an
    object of Nones, and table rows as `{"value": [...]}`.
    """
    task: dict[str, Any] = _plain(raw)
    subject = task["subject"]
    for key in ("type", "id", "presentation"):  # a task without a document (БСП `Задание`)
        subject[key] = subject.get(key) or ""
    for item in subject.get("fields") or []:
        item["value"] = item.get("value") or ""
    subject["fields"] = subject.get("fields") or []
    subject["tables"] = [
        {
            "name": table.get("name") or "",
            "columns": [c or "" for c in table.get("columns") or []],
            "rows": [
                [c or "" for c in (row or {}).get("value") or []] for row in table.get("rows") or []
            ],
        }
        for table in subject.get("tables") or []
    ]
    denied = subject.get("denied")
    # zeep gives a nil `denied` as an object of Nones, like a nil person.
    if isinstance(denied, dict) and denied.get("reason") is not None:
        subject["denied"] = {"reason": denied["reason"]}
    else:
        subject["denied"] = None
    task["allowed_decisions"] = task.get("allowed_decisions") or []
    # Contract fields of design 5.5: zeep gives a nil person as an object of Nones, and an
    # absent list as None; a service without them keeps contract v1's meaning.
    for key in ("performer", "role"):
        person = task.get(key)
        if isinstance(person, dict) and all(value is None for value in person.values()):
            task[key] = None
    task["candidates"] = [
        {"id": person.get("id") or "", "name": person.get("name") or ""}
        for person in _items(task.get("candidates"))
        if isinstance(person, dict)
    ]
    if not task.get("kind"):
        task.pop("kind", None)
    result = task.get("result")
    if not result or all(value is None for value in result.values()):
        task["result"] = None
    else:
        result["comment"] = result.get("comment") or ""
    for key in ("title", "number", "version"):
        task[key] = task.get(key) or ""
    return task


def _contract_users(raw: Any) -> list[Any]:
    """FindUsersByPhone's answer as contract v1's list of users: zeep unwraps a wrapper whose
    only child is the list (either shape is accepted) and gives an absent list of phones as None."""
    users = raw.get("users") if isinstance(raw, dict) else raw
    return [
        {**user, "phones": user.get("phones") or []} if isinstance(user, dict) else user
        for user in users or []
    ]


def _items(value: Any) -> list[Any]:
    """A repeated element as zeep gives it: a list, a wrapper `{"item"/"value": [...]}`, None."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        return inner if isinstance(inner, list) else []
    return []


def _plain(value: Any) -> Any:
    """Dicts and lists copied, date-times as RFC 3339 text (zeep keeps their UTC offset)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


def _html_message(answer: Answer, expected: str) -> str:
    return (
        f"1C answered an HTML page instead of {expected} at {safe_url(answer.url)} "
        f"(HTTP {answer.status}): usually the web server's login page, so the publication "
        "does not accept Basic authentication or ONEC_USERNAME/ONEC_PASSWORD are wrong"
    )
