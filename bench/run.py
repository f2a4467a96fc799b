"""Runs the scenarios in turn, writes `bench/results/<timestamp>.json`, answers the tables."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import latency, machine, memory, pdf, relay, report, sync_cost
from bench.sizes import Sizes
from sandbox.telegram.flood import STRICT

RESULTS = Path(__file__).parent / "results"
DOCS = Path(__file__).parent.parent / "docs" / "performance.md"
LATEST_START, LATEST_END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
SCENARIOS = "abcde"

log = logging.getLogger("bench")


def _steps(sizes: Sizes) -> list[tuple[str, str, Callable[[], Any]]]:
    steps: list[tuple[str, str, Callable[[], Any]]] = [
        ("a", "relay_limits_on", lambda: relay.relay_limits_on(sizes)),
        ("a", "relay_strict", lambda: relay.relay_limits_on(sizes, mode=STRICT)),
        ("a", "relay_roles", lambda: relay.relay_limits_on(sizes, role_every=relay.ROLE_EVERY)),
        ("a", "relay_bases", lambda: relay.relay_bases(sizes)),
        ("a", "relay_limits_off", lambda: relay.relay_limits_off(sizes)),
        ("b", "latency_push", lambda: latency.push_mode(sizes)),
        ("b", "latency_polling", lambda: latency.polling_mode(sizes)),
        ("c", "sync_cost", lambda: sync_cost.sync_cost(sizes)),
        ("d", "pdf_engines", lambda: pdf.engines(sizes)),
        ("e", "memory", lambda: memory.pending_tasks(sizes)),
    ]
    if sizes.relay_far:
        far = ("a", "relay_far", lambda: relay.relay_limits_on(sizes, relay.FAR_LATENCY))
        steps.insert(2, far)
    return steps


def run(
    sizes: Sizes, only: Iterable[str] = SCENARIOS, results_dir: Path = RESULTS
) -> dict[str, Any]:
    """Every scenario letter in `only`; answers the run (also written as JSON)."""
    wanted = set(only)
    started = time.monotonic()
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for letter, name, step in _steps(sizes):
        if letter not in wanted:
            continue
        log.warning("bench: %s (%s) …", name, sizes.name)
        t0 = time.monotonic()
        results[name] = step()
        timings[name] = round(time.monotonic() - t0, 1)
    if "relay_limits_off" in results:
        results["pdf_reuse"] = pdf.per_thousand(results["relay_limits_off"])
    run_data = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "sizes": sizes.name,
        "machine": machine.describe(),
        "seconds": round(time.monotonic() - started, 1),
        "seconds_by_scenario": timings,
        "results": results,
    }
    run_data["table"] = report.tables(results)
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = results_dir / f"{stamp}-{sizes.name}.json"
    path.write_text(json.dumps(run_data, ensure_ascii=False, indent=2), encoding="utf-8")
    run_data["path"] = str(path)
    return run_data


def markdown(run_data: dict[str, Any]) -> str:
    """The run's table with the machine and the date, as docs/performance.md keeps it."""
    return (
        f"Run of {run_data['started_at']} (`{run_data['sizes']}` sizes, {run_data['seconds']} s)"
        f" on {machine.line(run_data['machine'])}.\n\n{run_data['table']}"
    )


def update_docs(run_data: dict[str, Any], docs: Path = DOCS) -> None:
    """Replace the latest-run section of docs/performance.md with this run's table."""
    text = docs.read_text(encoding="utf-8")
    head, rest = text.split(LATEST_START, 1)
    _, tail = rest.split(LATEST_END, 1)
    docs.write_text(
        f"{head}{LATEST_START}\n{markdown(run_data)}{LATEST_END}{tail}", encoding="utf-8"
    )
