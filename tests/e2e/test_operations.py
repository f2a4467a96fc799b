"""Operations end to end: metrics after a scripted flow, and logs at DEBUG without secrets.

A real worker runs against both emulators and Redis (tests/e2e/conftest.py); the web app is
built on the same Gateway, so `/metrics` shows what the worker recorded in this process.
"""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import worker_running
from gateway.bootstrap import Gateway
from gateway.entrypoints.logs import configure_logging
from gateway.entrypoints.web import create_app
from gateway.entrypoints.worker import Worker
from gateway.usecases.status import last_sync_timestamp
from sandbox.onec.harness import RunningSandbox
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET
from tests.e2e.conftest import Approver, start_approval, wait_for


def approve_and_return(approver: Approver, onec: RunningSandbox) -> None:
    """Connect, approve one task, return another with a reason; wait until 1C has both."""
    approved = start_approval(onec, ["Морозов"], "Канцтовары для офиса", amount="1200.00")
    returned = start_approval(onec, ["Морозов"], "Такси для гостей", amount="1200.00")
    approver.connect()
    card = approver.card("Канцтовары для офиса")
    approver.press(card["message_id"], "Согласовать")
    other = approver.card("Такси для гостей")
    approver.press(other["message_id"], "Вернуть инициатору")
    prompt = approver.wait_message("Укажите причину")
    approver.say("Нет счёта", reply_to=prompt["message_id"])

    def completed(task_id: str) -> bool:
        return bool(onec.client.task(task_id)["state"] == "completed")

    for created in (approved, returned):
        wait_for(functools.partial(completed, created["task_id"]), "the decision in 1C")
    wait_for(
        lambda: "Нет счёта" in approver.text_of(approver.message(other["message_id"])),
        "the returned card to show its reason",
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, lbl), v in found.items() if n == name and wanted <= set(lbl))


@pytest.fixture
def connector() -> str:
    """OData: the gateway renders the PDF itself, so the render histogram has samples."""
    return "odata"


def test_metrics_count_the_flow_after_a_connect_approve_and_return(
    worker: Worker, gateway: Gateway, make_approver, onec: RunningSandbox
) -> None:
    approver: Approver = make_approver("Морозов")
    approve_and_return(approver, onec)
    # Cards can arrive from a pass still sending others' cards: read once a pass has ended.
    wait_for(lambda: last_sync_timestamp(gateway.store), "a sync pass to finish")
    response = create_app(gateway=gateway).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    found = samples(response.get_data(as_text=True))

    cards_sent = len(approver.telegram.client.calls("sendDocument"))  # seeded tasks come too
    assert cards_sent >= 2
    assert total(found, "gateway_tasks_relayed_total") == cards_sent
    assert total(found, "gateway_decisions_total", decision="approve", outcome="applied") == 1
    assert (
        total(found, "gateway_decisions_total", decision="return_initiator", outcome="applied") == 1
    )
    assert total(found, "gateway_onec_request_seconds_count", operation="pending_tasks") >= 1
    assert total(found, "gateway_onec_request_seconds_count", operation="submit_decision") == 2
    assert (
        total(found, "gateway_telegram_request_seconds_count", method="sendDocument") == cards_sent
    )
    assert total(found, "gateway_telegram_request_seconds_count", method="answerCallbackQuery") >= 2
    assert total(found, "gateway_pdf_render_seconds_count", engine="pdfkit") >= 2
    assert total(found, "gateway_outbox_depth") == 0
    last_sync = total(found, "gateway_last_sync_timestamp_seconds")
    assert last_sync > 1_700_000_000


# --- logs --------------------------------------------------------------------------------------


class RawRecords(logging.Handler):
    """Every record as emitted, before the masking filter sees it: leaks at the source."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {line}")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the quieted loggers back as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_full_flow_at_debug_logs_no_token_password_or_gateway_secret(
    gateway: Gateway, make_approver, onec: RunningSandbox, log_format: str
) -> None:
    output = io.StringIO()
    configure_logging("DEBUG", log_format, gateway.settings.secret_values(), stream=output)
    raw = RawRecords()
    logging.getLogger().handlers.insert(0, raw)  # sees records before the masking filter
    with worker_running(gateway):
        approve_and_return(make_approver("Морозов"), onec)

    text = output.getvalue()
    assert "DEBUG" in text  # the flow really logged at DEBUG
    if log_format == "json":
        assert all(json.loads(line)["message"] is not None for line in text.splitlines())
    secrets = {
        "bot token": SANDBOX_TOKEN,
        "1C password": gateway.settings.first_base.password.reveal(),
        "GATEWAY_SECRET": TEST_SECRET,
    }
    for what, secret in secrets.items():
        assert secret
        assert text.count(secret) == 0, f"the {what} is in the log"
        leaks = [line for line in raw.lines if secret in line]
        assert not leaks, f"the {what} reaches a log record: {leaks[:3]}"
