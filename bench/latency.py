"""(b) Latency: 1C creates a task → the card is in the approver's chat, with 1C pushing its
events (the gateway's web process takes them) and, for comparison, with the sync interval only;
then a press of «Согласовать» → the decision is written in 1C.

Times come from the emulators' own logs (the Telegram call's arrival plus its duration; the 1C
request's completion), so the bench's polling does not blur them. The document's print form is
in 1C's cache before the task is created ("PDF cached"): the figure is the gateway's relay, not
a first rendering. Flood limits are on; approvers take turns, so no chat's limit holds a sample.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench import harness
from bench.population import Approval, Approver, make_approvers, start_document
from bench.sizes import Sizes
from bench.stats import summary_ms, wait_until
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer

APPROVERS = 8
SAMPLE_TIMEOUT = 15.0
CONNECTOR = "http"  # the connector 1C pushes with (the HTTP service extension)


def _arrival(telegram: SandboxServer, approval: Approval) -> float | None:
    """When the card of `approval` reached its chat (None: not yet)."""
    for call in telegram.client.calls("sendDocument") + telegram.client.calls("sendMessage"):
        params = call["params"]
        text = str(params.get("caption") or params.get("text") or "")
        if (
            call["status"] == 200
            and int(params.get("chat_id", 0)) == approval.chat_id
            and approval.tag in text
        ):
            return float(call["time"]) + float(call["duration"])
    return None


def _deliveries(
    telegram: SandboxServer,
    onec: RunningSandbox,
    approvers: list[Approver],
    count: int,
    spacing: Callable[[], float],
    label: str,
) -> tuple[list[float], list[Approval]]:
    latencies: list[float] = []
    delivered: list[Approval] = []
    for n in range(count):
        approver = approvers[n % len(approvers)]
        (approval,) = start_document(onec, [approver], f"{label}-{n:03d}", render_print_form=True)
        arrived = wait_until(partial(_arrival, telegram, approval), SAMPLE_TIMEOUT, 0.02)
        if arrived is not None:
            latencies.append(arrived - approval.started_at)
            delivered.append(approval)
        time.sleep(spacing())
    return latencies, delivered


def _decision_written(onec: RunningSandbox, task_id: str) -> float | None:
    for entry in onec.client.requests_log():
        if entry["method"] == "POST" and entry["path"].endswith(f"/tasks/{task_id}/decision"):
            return float(entry["at"])
    return None


def _presses(
    telegram: SandboxServer, onec: RunningSandbox, approvals: list[Approval]
) -> list[float]:
    latencies = []
    for approval in approvals:
        card = next(
            (
                m
                for m in telegram.client.messages(approval.chat_id)
                if approval.tag in str(m.get("caption") or m.get("text") or "")
            ),
            None,
        )
        if card is None:
            continue
        pressed = time.time()
        telegram.client.press(approval.chat_id, "Согласовать", message_id=card["message_id"])
        written = wait_until(
            partial(_decision_written, onec, approval.task_id), SAMPLE_TIMEOUT, 0.02
        )
        if written is not None:
            latencies.append(written - pressed)
        time.sleep(1.1 / APPROVERS)  # the card's edit and the next press share a chat budget
    return latencies


def _onec_own_decision_time(
    onec: RunningSandbox, approvers: list[Approver], count: int
) -> list[float]:
    """The reference: the same decision request sent to 1C directly, timed round trip."""
    own = []
    with onec.session() as session:
        for n in range(count):
            approver = approvers[n % len(approvers)]
            (approval,) = start_document(onec, [approver], f"прямо-{n:03d}")
            body = {
                "decision": "approve",
                "comment": "",
                "user_id": approver.onec_id,
                "idempotency_key": f"bench-direct-{approval.task_id}",
            }
            url = f"{onec.base_url}/hs/approvals/v1/tasks/{approval.task_id}/decision"
            started = time.perf_counter()
            answer = session.post(url, json=body, timeout=10)
            own.append(time.perf_counter() - started)
            answer.raise_for_status()
    return own


def push_mode(sizes: Sizes) -> dict[str, Any]:
    """1C pushes to POST /onec/events; the sync interval is long, so only the push can act."""
    port = harness.free_port()
    push_url = f"http://127.0.0.1:{port}/onec/events"
    with (
        harness.redis_prefix() as prefix,
        harness.emulators(flood=True, push_url=push_url) as (telegram, onec),
    ):
        config = harness.settings(
            telegram, onec, prefix, ONEC_CONNECTOR=CONNECTOR, ONEC_POLL_INTERVAL="120"
        )
        gateway = harness.build_gateway(config)
        approvers = make_approvers(onec, telegram, gateway.store, APPROVERS)
        with (
            harness.web_process(harness.build_gateway(config), port),
            harness.running_worker(gateway),
        ):
            # The first full pass reads 1C's list; pushes are measured after it.
            wait_until(
                lambda: any(r["path"].endswith("/events") for r in onec.client.requests_log()),
                SAMPLE_TIMEOUT,
            )
            time.sleep(0.5)
            pushes, delivered = _deliveries(
                telegram, onec, approvers, sizes.latency_samples, lambda: 0.15, "push"
            )
            presses = _presses(telegram, onec, delivered)
        own = _onec_own_decision_time(onec, approvers, min(10, max(2, sizes.latency_samples)))
    press = summary_ms(presses)
    own_ms = summary_ms(own)
    on_top = None
    if press["p50_ms"] is not None and own_ms["p50_ms"] is not None:
        on_top = round(float(press["p50_ms"]) - float(own_ms["p50_ms"]), 1)
    return {
        "connector": CONNECTOR,
        "push_to_message": summary_ms(pushes),
        "press_to_1c_write": press,
        "onec_own_decision": own_ms,
        "press_p50_on_top_of_1c_ms": on_top,
        "samples_asked": sizes.latency_samples,
    }


def polling_mode(sizes: Sizes) -> dict[str, Any]:
    """No push: the task waits for the next sync pass (every ONEC_POLL_INTERVAL seconds)."""
    interval = sizes.polling_interval
    rng = random.Random(10)
    with harness.redis_prefix() as prefix, harness.emulators(flood=True) as (telegram, onec):
        config = harness.settings(
            telegram, onec, prefix, ONEC_CONNECTOR=CONNECTOR, ONEC_POLL_INTERVAL=str(interval)
        )
        gateway = harness.build_gateway(config)
        approvers = make_approvers(onec, telegram, gateway.store, APPROVERS)
        with harness.running_worker(gateway):
            wait_until(
                lambda: any(r["path"].endswith("/events") for r in onec.client.requests_log()),
                SAMPLE_TIMEOUT,
            )
            # A random pause puts each task at a random point of the interval.
            latencies, _ = _deliveries(
                telegram,
                onec,
                approvers,
                sizes.polling_samples,
                lambda: rng.uniform(0, interval),
                "опрос",
            )
    return {
        "connector": CONNECTOR,
        "poll_interval_seconds": interval,
        "push_to_message": summary_ms(latencies),
    }
