"""The approvals SOAP web service (`<base>/ws/approvals`): WSDL, SOAP 1.1 and 1.2, faults."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import quoteattr

from flask import Blueprint, Response, request
from lxml import etree

from sandbox.onec import contract, service
from sandbox.onec.service import ContractError
from sandbox.onec.state import Sandbox, current

NS = "http://tg1c.ru/approvals/v1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_LOCATION = re.compile(r'(<(?:soapbind|soap12bind):address location=)"[^"]*"')

blueprint = Blueprint("soap", __name__)


class SoapFault(Exception):
    """A fault to answer: client's or server's, with the contract error code and message."""

    def __init__(
        self, code: str, message: str, sender: bool = True, task: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sender = sender
        self.task = task


@blueprint.get("/approvals")
@blueprint.get("/approvals.1cws")
def wsdl() -> Response:
    """The WSDL with the publication's address (or the configured one, as an internal host)."""
    if "wsdl" not in {key.lower() for key in request.args}:
        return Response(
            "Use ?wsdl for the service description\n", 400, content_type="text/plain; charset=utf-8"
        )
    sandbox = current()
    address = (
        sandbox.config.soap_address
        or request.host_url.rstrip("/") + sandbox.config.base + "/ws/approvals"
    )
    text = contract.WSDL_PATH.read_text(encoding="utf-8")
    text = _LOCATION.sub(lambda m: m.group(1) + quoteattr(address), text)
    return Response(text, 200, content_type="text/xml; charset=utf-8")


@blueprint.post("/approvals")
@blueprint.post("/approvals.1cws")
def call() -> Response:
    """One SOAP call: the Body's first element names the operation."""
    envelope_ns = SOAP11
    try:
        envelope = etree.fromstring(request.get_data(), _PARSER)
        envelope_ns = etree.QName(envelope).namespace or ""
        if envelope_ns not in (SOAP11, SOAP12) or etree.QName(envelope).localname != "Envelope":
            envelope_ns = SOAP11 if "soap+xml" not in (request.content_type or "") else SOAP12
            raise SoapFault("invalid", "not a SOAP envelope")
        body = envelope.find(f"{{{envelope_ns}}}Body")
        operation = next(iter(body), None) if body is not None else None
        if operation is None or etree.QName(operation).namespace != NS:
            raise SoapFault("invalid", "the Body holds no operation of this service")
        name = etree.QName(operation).localname
        handler = OPERATIONS.get(name)
        if handler is None:
            raise SoapFault("invalid", f"unknown operation {name}")
        result = handler(current(), _params(operation))
        return _envelope(envelope_ns, _response(name, result), 200)
    except etree.XMLSyntaxError as exc:
        return _fault(envelope_ns, SoapFault("invalid", f"malformed XML: {exc}"))
    except ContractError as error:
        return _fault(
            envelope_ns,
            SoapFault(error.code, error.message or error.code, error.status < 500, error.task),
        )
    except contract.InvalidParameter as exc:
        return _fault(envelope_ns, SoapFault("invalid", str(exc)))
    except SoapFault as fault:
        return _fault(envelope_ns, fault)


def _list_tasks(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    args = contract.query_parameters("/tasks", "get", _present(params))
    return service.list_tasks(sandbox.infobase, args["limit"], args["page_token"])


def _get_task(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    return service.get_task(sandbox.infobase, params.get("id") or "")


def _print_form(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    return base64.b64encode(service.print_form(sandbox, params.get("id") or "")).decode()


def _submit(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    body: dict[str, Any] = {
        name: params[name]
        for name in (
            "decision",
            "comment",
            "user_id",
            "idempotency_key",
            "expected_version",
            "expected_subject_version",
        )
        if params.get(name) is not None
    }
    if "comment" in params and params["comment"] is None:
        body["comment"] = ""
    if params.get("telegram_user_id") is not None:
        try:
            account_id = int(params["telegram_user_id"] or "")
        except ValueError:
            raise SoapFault("invalid", "telegram_user_id: an integer") from None
        body["telegram_user"] = {"id": account_id, "name": params.get("telegram_user_name") or ""}
    return service.submit_decision(sandbox.infobase, params.get("task_id") or "", body)


def _events(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    args = contract.query_parameters("/events", "get", _present(params))
    return service.events(sandbox.infobase, args["after"], args["limit"])


def _users(sandbox: Sandbox, params: dict[str, str | None]) -> Any:
    args = contract.query_parameters("/users", "get", _present(params))
    return service.users_by_phone(sandbox.infobase, args["phone"])


OPERATIONS: dict[str, Callable[[Sandbox, dict[str, str | None]], Any]] = {
    "ListTasks": _list_tasks,
    "GetTask": _get_task,
    "GetPrintForm": _print_form,
    "SubmitDecision": _submit,
    "GetEvents": _events,
    "FindUsersByPhone": _users,
}


def _params(operation: etree._Element) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for child in operation:
        if not isinstance(child.tag, str):
            continue
        nil = child.get(f"{{{XSI}}}nil") in ("true", "1")
        params[etree.QName(child).localname] = None if nil else (child.text or "")
    return params


def _present(params: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in params.items() if value is not None}


def _response(name: str, result: Any) -> etree._Element:
    wrapper = etree.Element(
        f"{{{NS}}}{name}Response",
        nsmap={"m": NS, "xs": "http://www.w3.org/2001/XMLSchema", "xsi": XSI},
    )
    _append(wrapper, "return", result)
    return wrapper


def _append(parent: etree._Element, name: str, value: Any) -> None:
    """JSON-shaped values as elements in the WSDL's order (dicts keep the contract's order)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list):  # a table row: its cells as repeated `value`
                row = etree.SubElement(parent, f"{{{NS}}}{name}")
                for cell in item:
                    _append(row, "value", cell)
            else:
                _append(parent, name, item)
        return
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if value is None:
        element.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _envelope(envelope_ns: str, content: etree._Element, status: int) -> Response:
    envelope = etree.Element(f"{{{envelope_ns}}}Envelope", nsmap={"soap": envelope_ns})
    etree.SubElement(envelope, f"{{{envelope_ns}}}Header")
    body = etree.SubElement(envelope, f"{{{envelope_ns}}}Body")
    body.append(content)
    data = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return Response(data, status, content_type=CONTENT_TYPES[envelope_ns])


def _fault(envelope_ns: str, fault: SoapFault) -> Response:
    text = f"{fault.code}: {fault.message}"
    detail_content = etree.Element(f"{{{NS}}}ApprovalsFault", nsmap={"m": NS, "xsi": XSI})
    _append(detail_content, "code", fault.code)
    _append(detail_content, "message", fault.message)
    if fault.task is not None:
        _append(detail_content, "task", fault.task)
    if envelope_ns == SOAP12:
        element = etree.Element(f"{{{SOAP12}}}Fault")
        code = etree.SubElement(element, f"{{{SOAP12}}}Code")
        etree.SubElement(code, f"{{{SOAP12}}}Value").text = (
            "soap:Sender" if fault.sender else "soap:Receiver"
        )
        reason = etree.SubElement(element, f"{{{SOAP12}}}Reason")
        reason_text = etree.SubElement(reason, f"{{{SOAP12}}}Text")
        reason_text.set("{http://www.w3.org/XML/1998/namespace}lang", "ru")
        reason_text.text = text
        etree.SubElement(element, f"{{{SOAP12}}}Detail").append(detail_content)
    else:
        element = etree.Element(f"{{{SOAP11}}}Fault")
        etree.SubElement(element, "faultcode").text = (
            "soap:Client" if fault.sender else "soap:Server"
        )
        etree.SubElement(element, "faultstring").text = text
        etree.SubElement(element, "detail").append(detail_content)
    return _envelope(envelope_ns, element, 500)
