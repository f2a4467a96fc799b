"""The Prometheus adapter and the timing decorators, on fakes (no I/O)."""

from __future__ import annotations

from typing import NoReturn

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.metrics import InstrumentedOneC, InstrumentedRenderer, PrometheusMetrics
from adapters.metrics.prometheus import BaseStoreGauges, StoreGauges
from gateway.domain.tasks import Task
from gateway.errors import UpstreamUnavailable
from tests.factories import make_task
from tests.fakes import FakeOneC, FakeRenderer


def scrape(
    metrics: PrometheusMetrics, gauges: StoreGauges | BaseStoreGauges | None = None
) -> dict[str, float]:
    body, content_type = metrics.exposition(gauges)
    assert content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


class DownOneC(FakeOneC):
    """1C listing its pending tasks but failing to read one."""

    def get_task(self, task_id: str) -> Task:
        raise UpstreamUnavailable("1C", "connection refused")


def test_counters_carry_the_names_and_labels_of_the_issue(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = PrometheusMetrics()
    metrics.task_relayed()
    metrics.task_relayed()
    metrics.decision("approve", "applied")
    metrics.telegram_request("sendMessage", 0.2)
    found = scrape(metrics)
    assert found["gateway_tasks_relayed_total{}"] == 2
    assert found["gateway_decisions_total{decision=approve,outcome=applied}"] == 1
    assert found["gateway_telegram_request_seconds_count{method=sendMessage}"] == 1
    assert found["gateway_telegram_request_seconds_sum{method=sendMessage}"] == pytest.approx(0.2)


def test_store_gauges_are_read_at_scrape_time_and_left_out_when_unreadable(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    depth = [3]

    def broken() -> NoReturn:
        raise UpstreamUnavailable("Redis", "connection refused")

    gauges = StoreGauges(outbox_depth=lambda: depth[0], last_sync_timestamp=lambda: 1.8e9)
    assert scrape(PrometheusMetrics(), gauges)["gateway_outbox_depth{}"] == 3
    depth[0] = 0
    found = scrape(PrometheusMetrics(), gauges)
    assert found["gateway_outbox_depth{}"] == 0
    assert found["gateway_last_sync_timestamp_seconds{}"] == 1.8e9
    found = scrape(
        PrometheusMetrics(), StoreGauges(outbox_depth=broken, last_sync_timestamp=broken)
    )
    assert "gateway_outbox_depth{}" not in found


def test_a_failed_1c_call_is_timed_too_and_the_error_passes_through(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = PrometheusMetrics()
    onec = InstrumentedOneC(DownOneC([make_task("a"), make_task("b")]), metrics)
    with pytest.raises(UpstreamUnavailable):
        onec.get_task("x")
    assert [t.id for t in onec.pending_tasks()] == ["a", "b"]
    found = scrape(metrics)
    assert found["gateway_onec_request_seconds_count{operation=get_task}"] == 1
    assert found["gateway_onec_request_seconds_count{operation=pending_tasks}"] == 1


def test_renderings_are_timed_by_engine_and_the_renderer_keeps_its_identity(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = PrometheusMetrics()
    inner = FakeRenderer()
    renderer = InstrumentedRenderer(inner, metrics)
    task = make_task()
    assert renderer.render(task) == inner.content
    assert renderer.engine == "fake-engine"
    assert renderer.template_for(task) == inner.template_for(task)
    assert scrape(metrics)["gateway_pdf_render_seconds_count{engine=fake-engine}"] == 1


def test_two_instances_in_one_process_do_not_collide(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.task_relayed()
    assert scrape(second)["gateway_tasks_relayed_total{}"] == 0


def test_with_several_bases_1c_decision_and_relay_metrics_carry_the_base(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = PrometheusMetrics(by_base=True)
    uh, erp = metrics.for_base("uh"), metrics.for_base("erp")
    uh.task_relayed()
    erp.decision("approve", "retry")
    InstrumentedOneC(FakeOneC([make_task("a")]), erp).pending_tasks()
    uh.telegram_request("sendMessage", 0.1)  # one bot: Telegram's timings have no base
    found = scrape(metrics)
    assert found["gateway_tasks_relayed_total{base=uh}"] == 1
    assert found["gateway_decisions_total{base=erp,decision=approve,outcome=retry}"] == 1
    assert found["gateway_onec_request_seconds_count{base=erp,operation=pending_tasks}"] == 1
    assert found["gateway_telegram_request_seconds_count{method=sendMessage}"] == 1


def test_a_single_base_records_without_a_base_label(monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = PrometheusMetrics()
    assert metrics.for_base("") is metrics
    metrics.for_base("").decision("approve", "applied")
    assert scrape(metrics)["gateway_decisions_total{decision=approve,outcome=applied}"] == 1


def test_store_gauges_of_several_bases_are_labelled_and_skip_an_unreadable_one(
    monkeypatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    def broken() -> NoReturn:
        raise UpstreamUnavailable("Redis", "connection refused")

    gauges = BaseStoreGauges(
        {
            "uh": StoreGauges(outbox_depth=lambda: 2, last_sync_timestamp=lambda: 1.8e9),
            "erp": StoreGauges(outbox_depth=broken, last_sync_timestamp=lambda: None),
        }
    )
    found = scrape(PrometheusMetrics(by_base=True), gauges)
    assert found["gateway_outbox_depth{base=uh}"] == 2
    assert found["gateway_last_sync_timestamp_seconds{base=uh}"] == 1.8e9
    assert "gateway_outbox_depth{base=erp}" not in found
