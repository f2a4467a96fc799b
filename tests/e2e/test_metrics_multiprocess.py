"""`/metrics` under two gunicorn workers and a separate gateway worker process (issue 9).

As deployed: the worker (`python -m gateway run`) and gunicorn (deploy/gunicorn.conf.py, two
workers) are separate processes sharing PROMETHEUS_MULTIPROC_DIR, the worker in a subdirectory
as in deploy/docker-compose.yml. Whichever web worker answers, the scrape shows the totals.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from sandbox.onec.harness import RunningSandbox
from tests.e2e.conftest import Approver, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and set(labels.items()) <= set(sample.labels.items()):
                total += sample.value
    return total


@pytest.fixture
def processes(onec_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """gunicorn with two workers and a gateway worker; yields the web base URL."""
    metrics = tmp_path / "metrics"
    env = {
        **onec_env,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "ONEC_CONNECTOR": "http",
        "ONEC_POLL_INTERVAL": "0.3",
    }
    port = free_port()
    web_env = {
        **env,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }
    worker_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics / "worker")}
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("web", "worker")}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=web_env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "gateway", "run"],
            cwd=tmp_path,  # no developer's .env
            env=worker_env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
    ]
    url = f"http://127.0.0.1:{port}"

    def web_up() -> bool:
        for process in started:
            assert process.poll() is None, (tmp_path / "web.log").read_text() + (
                tmp_path / "worker.log"
            ).read_text()
        try:
            return requests.get(f"{url}/healthz", timeout=5).ok
        except requests.RequestException:  # not listening yet, or a worker still booting
            return False

    try:
        wait_for(web_up, "gunicorn to answer", timeout=30)
        yield url
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs.values():
            log.close()


def test_every_gunicorn_worker_scrapes_the_totals_of_all_processes(
    processes: str, make_approver, onec: RunningSandbox
) -> None:
    created = onec.client.create_approval(
        route=[onec.client.user("Морозов")["id"]],
        initiator=onec.client.user("Иванов")["id"],
        fields={"СуммаДокумента": "10.00", "НазначениеПлатежа": "Метрики под gunicorn"},
    )
    approver: Approver = make_approver("Морозов")
    approver.connect()
    card = approver.card("Метрики под gunicorn")
    approver.press(card["message_id"], "Согласовать")
    wait_for(
        lambda: onec.client.task(created["task_id"])["state"] == "completed", "the decision in 1C"
    )
    cards_sent = len(approver.telegram.client.calls("sendDocument"))

    def scrape() -> str:
        # A new connection each time, so both gunicorn workers get to answer.
        with requests.Session() as session:
            response = session.get(f"{processes}/metrics", headers={"Connection": "close"})
        assert response.status_code == 200
        return response.text

    wait_for(
        lambda: (
            value(scrape(), "gateway_decisions_total", decision="approve", outcome="applied") == 1
        ),
        "the decision in the metrics",
    )
    for _ in range(8):
        text = scrape()
        assert value(text, "gateway_tasks_relayed_total") == cards_sent
        assert value(text, "gateway_decisions_total", decision="approve", outcome="applied") == 1
        assert value(text, "gateway_onec_request_seconds_count", operation="submit_decision") == 1
        assert value(text, "gateway_telegram_request_seconds_count", method="sendDocument") >= 1
        assert value(text, "gateway_outbox_depth") == 0
        assert value(text, "gateway_last_sync_timestamp_seconds") > 1_700_000_000
