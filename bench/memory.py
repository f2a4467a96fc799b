"""(e) Memory: the worker's peak resident set (VmHWM) as deployed (`python -m gateway run`),
while it holds 10,000 pending tasks of 1C, and (from the relay) during (a).

The 10,000 tasks are pending on a 1C user nobody linked: the worker reads and keeps them all
(that is where memory goes) and delivers none, so the figure does not wait on Telegram's
limits. The peak is read once the first full pass is over (1C's request log quiet).
"""

from __future__ import annotations

import time
from typing import Any

from bench import harness
from bench.sizes import Sizes
from bench.stats import wait_until
from bench.subprocess_worker import WorkerProcess
from sandbox.onec.harness import RunningSandbox

QUIET_SECONDS = 2.0
PASS_TIMEOUT = 120.0


def _pass_over(onec: RunningSandbox) -> bool:
    log = onec.client.requests_log()
    return bool(log) and time.time() - float(log[-1]["at"]) > QUIET_SECONDS


def _idle_worker_mb() -> float | None:
    """The reference: the same worker with an empty 1C (imports, threads, clients)."""
    with (
        harness.redis_prefix() as prefix,
        harness.onec_only() as onec,
        harness.emulators_telegram_only() as telegram,
    ):
        env = harness.environment(telegram, onec, prefix, ONEC_CONNECTOR="http")
        with WorkerProcess(env) as worker:
            wait_until(lambda: not worker.alive or _pass_over(onec), PASS_TIMEOUT, 0.5)
            worker.stop()
            return worker.peak_mb


def pending_tasks(sizes: Sizes) -> dict[str, Any]:
    """Peak RSS per connector with `memory_pending` pending tasks, next to an idle worker's."""
    results: dict[str, Any] = {"pending": sizes.memory_pending, "idle_mb": _idle_worker_mb()}
    for connector in sizes.memory_connectors:
        with (
            harness.redis_prefix() as prefix,
            harness.onec_only() as onec,
            harness.emulators_telegram_only() as telegram,
        ):
            onec.client.bulk_seed(sizes.memory_pending)
            onec.client.clear_requests()
            env = harness.environment(telegram, onec, prefix, ONEC_CONNECTOR=connector)
            with WorkerProcess(env) as worker:
                wait_until(lambda: not worker.alive or _pass_over(onec), PASS_TIMEOUT, 0.5)
                log = onec.client.requests_log()
                worker.stop()
                results[connector] = {
                    "peak_rss_mb": worker.peak_mb,
                    "first_pass_seconds": round(float(log[-1]["at"]) - worker.started_at, 1)
                    if log
                    else None,
                }
    return results
