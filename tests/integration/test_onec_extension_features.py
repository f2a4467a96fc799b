"""What the 1C extension adds, read and written by the connectors against the 1C emulator:
documents withheld by access rights, lock conflicts that are retried, the Telegram account in
1C's audit (http, soap), and in the result text OData writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from gateway.domain.records import DecisionRequest
from gateway.domain.tasks import Decision, Task
from gateway.errors import UpstreamUnavailable
from gateway.ports.onec import OneC
from sandbox.onec.harness import RunningSandbox
from tests.integration.test_onec_connectors import close, make, start_approval, user_id

TELEGRAM_ID = 700123
TELEGRAM_NAME = "Дмитрий Морозов"


@pytest.fixture(params=["http", "soap"])
def service(request: pytest.FixtureRequest, onec: RunningSandbox) -> Iterator[OneC]:
    """A connector to the extension's own services (HTTP or SOAP)."""
    instance = make(onec, request.param)
    yield instance
    close(instance)


def press(task: Task, key: str = "press-audit") -> DecisionRequest:
    assert task.performer is not None
    return DecisionRequest(
        task_id=task.id,
        decision=Decision.APPROVE,
        comment="",
        user_id=task.performer.id,
        user_name=task.performer.name,
        idempotency_key=key,
        requested_at=datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
        telegram_user_id=TELEGRAM_ID,
        telegram_user_name=TELEGRAM_NAME,
        expected_version=task.version,
        expected_subject_version=task.subject.version,
    )


def test_a_document_the_approver_may_not_read_comes_without_content_and_with_the_reason(
    service: OneC, onec: RunningSandbox
) -> None:
    task = service.get_task(start_approval(onec, ["Морозов"]))
    assert task.subject.denied is None and task.subject.fields
    onec.client.set_read_denied(task.subject.id, [user_id(onec, "Морозов")])

    withheld = service.get_task(task.id)
    assert withheld.subject.denied is not None
    assert "нет права на чтение" in withheld.subject.denied
    assert "Морозов" in withheld.subject.denied
    assert withheld.subject.fields == () and withheld.subject.tables == ()
    assert service.print_form(withheld) is None


def test_a_decision_meeting_a_lock_is_retryable_and_applies_once_the_lock_is_gone(
    service: OneC, onec: RunningSandbox
) -> None:
    task = service.get_task(start_approval(onec, ["Морозов", "Волков"]))
    onec.client.lock_task(task.id)
    with pytest.raises(UpstreamUnavailable) as caught:
        service.submit_decision(press(task))
    assert caught.value.retryable
    assert service.get_task(task.id).is_pending
    assert onec.client.audit() == []

    onec.client.lock_task(task.id, locked=False)
    decided = service.submit_decision(press(task))
    assert not decided.is_pending
    assert len(onec.client.audit()) == 1


def test_a_decision_names_the_telegram_account_in_1c_audit(
    service: OneC, onec: RunningSandbox
) -> None:
    task = service.get_task(start_approval(onec, ["Морозов"]))
    service.submit_decision(press(task, key="press-named"))

    [record] = onec.client.audit()
    assert record["task_id"] == task.id
    assert record["user_id"] == user_id(onec, "Морозов")
    assert record["telegram_id"] == TELEGRAM_ID
    assert record["telegram_name"] == TELEGRAM_NAME
    assert record["idempotency_key"] == "press-named"
    assert record["outcome"] == "applied"


def test_odata_writes_the_telegram_account_into_the_result_text(onec: RunningSandbox) -> None:
    odata = make(onec, "odata")
    task = odata.get_task(start_approval(onec, ["Морозов"]))
    odata.submit_decision(press(task))

    approval = onec.client.approvals(task.subject.id)[0]
    [decided] = [t for t in approval["tasks"] if t["id"] == task.id]
    assert f"через Telegram ({TELEGRAM_NAME}, id {TELEGRAM_ID})" in decided["comment"]
    assert "Морозов" in decided["comment"]
