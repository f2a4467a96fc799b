"""What the 1C extension keeps in 1C, as the emulator's HTTP service and SOAP web service do it:
the settings' card fields, the approver's read right on the document, a lock conflict answered
503 (retried) apart from a refusal 422 (final), and the register of decisions from Telegram."""

from __future__ import annotations

from typing import Any

import requests
from lxml import etree

from sandbox.onec import contract

HS = "/hs/approvals/v1"
PAYMENTS = "Document_ЗаявкаНаРасходованиеДенежныхСредств"
NS = "http://tg1c.ru/approvals/v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _get(onec: Any, http: requests.Session, path: str) -> requests.Response:
    return http.get(onec.base_url + HS + path, timeout=30)


def _pending_of(onec: Any, http: requests.Session, user_id: str) -> dict[str, Any]:
    tasks = _get(onec, http, "/tasks?limit=1000").json()["tasks"]
    return next(t for t in tasks if t["performer"] and t["performer"]["id"] == user_id)


def _decide(
    onec: Any, http: requests.Session, task_id: str, user_id: str, key: str, **extra: Any
) -> requests.Response:
    body = {
        "decision": "approve",
        "comment": "",
        "user_id": user_id,
        "idempotency_key": key,
        **extra,
    }
    return http.post(f"{onec.base_url}{HS}/tasks/{task_id}/decision", json=body, timeout=30)


def test_the_card_carries_only_the_fields_and_tables_the_settings_list(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    everything = [f["name"] for f in task["subject"]["fields"]]
    assert {"Контрагент", "Сумма", "Назначение платежа"} <= set(everything)
    onec.client.set_card(PAYMENTS, ["СуммаДокумента", "Контрагент"])
    narrowed = _get(onec, http, f"/tasks/{task['id']}").json()
    assert contract.errors(narrowed, contract.schema("Task")) == []
    assert [f["name"] for f in narrowed["subject"]["fields"]] == [
        "Номер",
        "Дата",
        "Сумма",
        "Контрагент",
    ]
    assert narrowed["subject"]["tables"] == []
    onec.client.set_card(PAYMENTS, ["СуммаДокумента"], ["РасшифровкаПлатежа"])
    tables = _get(onec, http, f"/tasks/{task['id']}").json()["subject"]["tables"]
    assert [t["name"] for t in tables] == ["Расшифровка платежа"]
    onec.client.set_card(PAYMENTS, None)
    again = _get(onec, http, f"/tasks/{task['id']}").json()
    assert [f["name"] for f in again["subject"]["fields"]] == everything


def test_an_approver_without_the_read_right_gets_no_fields_no_print_form_and_the_reason(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    document = task["subject"]["id"]
    assert task["subject"]["denied"] is None
    onec.client.set_read_denied(document, [people["Петрова"]])
    denied = _get(onec, http, f"/tasks/{task['id']}").json()
    assert contract.errors(denied, contract.schema("Task")) == []
    assert (denied["subject"]["fields"], denied["subject"]["tables"]) == ([], [])
    reason = denied["subject"]["denied"]["reason"]
    assert reason.startswith("Документ недоступен") and "Петрова" in reason
    assert denied["subject"]["presentation"] == task["subject"]["presentation"]
    printed = _get(onec, http, f"/tasks/{task['id']}/print")
    assert (printed.status_code, printed.json()["error"]) == (404, "not_found")
    assert printed.json()["message"] == reason
    # Somebody else's lack of rights does not hide the document from this approver.
    onec.client.set_read_denied(document, [people["Иванов"]])
    shown = _get(onec, http, f"/tasks/{task['id']}").json()
    assert shown["subject"]["denied"] is None and shown["subject"]["fields"]
    assert _get(onec, http, f"/tasks/{task['id']}/print").status_code == 200


def test_a_task_another_1c_session_holds_answers_503_and_records_nothing(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    onec.client.lock_task(task["id"])
    busy = _decide(onec, http, task["id"], people["Петрова"], "key-1")
    assert busy.status_code == 503
    assert busy.json()["error"] == "unavailable"
    assert contract.errors(busy.json(), contract.schema("Error")) == []
    assert onec.client.audit() == []
    assert _get(onec, http, f"/tasks/{task['id']}").json()["state"] == "pending"
    # The same key again once released: the decision is applied, not the 503 replayed.
    onec.client.lock_task(task["id"], locked=False)
    applied = _decide(onec, http, task["id"], people["Петрова"], "key-1")
    assert applied.status_code == 200
    assert applied.json()["id"] == task["id"]
    assert [(d["idempotency_key"], d["outcome"]) for d in onec.client.audit()] == [
        ("key-1", "applied")
    ]


def test_a_refusal_stays_final_while_a_lock_conflict_is_retried(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    onec.client.set_refusal(task["subject"]["id"], "Превышен лимит бюджета")
    refused = _decide(onec, http, task["id"], people["Петрова"], "key-2")
    assert (refused.status_code, refused.json()["error"]) == (422, "refused")
    onec.client.set_refusal(task["subject"]["id"], None)
    replayed = _decide(onec, http, task["id"], people["Петрова"], "key-2")
    assert replayed.json() == refused.json()  # final: the key replays the refusal


def test_every_decision_from_telegram_is_in_the_audit_register_with_the_account(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    account = {"id": 700100200, "name": "Анна П."}
    applied = _decide(onec, http, task["id"], people["Петрова"], "key-3", telegram_user=account)
    assert applied.status_code == 200
    other = _pending_of(onec, http, people["Морозов"])
    onec.client.set_refusal(other["subject"]["id"], "Документ не проведен")
    refused = _decide(onec, http, other["id"], people["Морозов"], "key-4")
    assert refused.status_code == 422
    (first, second) = onec.client.audit()
    assert first["task_id"] == task["id"]
    assert (first["user_id"], first["user_name"]) == (people["Петрова"], "Петрова Анна Сергеевна")
    assert (first["telegram_id"], first["telegram_name"]) == (700100200, "Анна П.")
    assert (first["decision"], first["outcome"], first["idempotency_key"]) == (
        "approve",
        "applied",
        "key-3",
    )
    assert first["document"] == task["subject"]["presentation"]
    assert (second["outcome"], second["message"]) == ("refused", "Документ не проведен")
    assert second["telegram_id"] is None
    # A replay is not a second decision.
    _decide(onec, http, task["id"], people["Петрова"], "key-3", telegram_user=account)
    assert len(onec.client.audit()) == 2


def test_a_malformed_telegram_account_is_an_invalid_decision(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    bad = _decide(onec, http, task["id"], people["Петрова"], "key-5", telegram_user={"id": "x"})
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid")


def _soap(onec: Any, http: requests.Session, operation: str, parts: str) -> etree._Element:
    """Call a web service operation with these parts (XML in the service's namespace `m`);
    answers the envelope, asserting 200."""
    envelope = (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:m="{NS}"><soap:Body>'
        f"<m:{operation}>{parts}</m:{operation}></soap:Body></soap:Envelope>"
    )
    answer = http.post(
        onec.base_url + "/ws/approvals",
        data=envelope.encode(),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f"{NS}#Approvals:{operation}",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return etree.fromstring(answer.content)


def _soap_task(onec: Any, http: requests.Session, task_id: str) -> etree._Element:
    return _soap(onec, http, "GetTask", f"<m:id>{task_id}</m:id>")


def test_the_web_service_says_why_the_document_is_not_shown(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    onec.client.set_read_denied(task["subject"]["id"], [people["Петрова"]])
    root = _soap_task(onec, http, task["id"])
    subject = root.find(f".//{{{NS}}}subject")
    assert subject.find(f"{{{NS}}}fields") is None
    reason = subject.findtext(f"{{{NS}}}denied/{{{NS}}}reason")
    assert reason.startswith("Документ недоступен")
    onec.client.set_read_denied(task["subject"]["id"], [])
    shown = _soap_task(onec, http, task["id"]).find(f".//{{{NS}}}subject")
    assert shown.find(f"{{{NS}}}fields") is not None
    denied = shown.find(f"{{{NS}}}denied")
    assert (
        denied is not None
        and denied.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    )


def test_extension_state_is_forgotten_on_reset(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    onec.client.set_card(PAYMENTS, ["СуммаДокумента"])
    onec.client.lock_task(task["id"])
    onec.client.reset()
    again = _pending_of(onec, http, people["Петрова"])
    assert len(again["subject"]["fields"]) > 3
    assert _decide(onec, http, again["id"], people["Петрова"], "key-6").status_code == 200


def test_a_decision_over_soap_carries_the_telegram_account_into_the_audit(
    onec: Any, http: requests.Session, people: dict[str, str]
) -> None:
    task = _pending_of(onec, http, people["Петрова"])
    _soap(
        onec,
        http,
        "SubmitDecision",
        f"<m:task_id>{task['id']}</m:task_id><m:decision>approve</m:decision>"
        f"<m:comment></m:comment><m:user_id>{people['Петрова']}</m:user_id>"
        "<m:idempotency_key>soap-1</m:idempotency_key>"
        "<m:telegram_user_id>700100200</m:telegram_user_id>"
        "<m:telegram_user_name>Анна П.</m:telegram_user_name>",
    )
    (record,) = onec.client.audit()
    assert (record["telegram_id"], record["telegram_name"]) == (700100200, "Анна П.")
    assert (record["user_id"], record["outcome"]) == (people["Петрова"], "applied")
