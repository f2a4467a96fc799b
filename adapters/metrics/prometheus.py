"""The Metrics port on prometheus_client, and the `/metrics` exposition.

Single process: the counters live in this object's own registry (one registry per instance, so
tests and several `build()` calls never collide). Several processes (gunicorn workers and the
gateway worker): with PROMETHEUS_MULTIPROC_DIR set in the environment *before* the processes
start, prometheus_client writes every value to files in that directory and the exposition sums
them, whichever web worker answers the scrape. Gauges read from Redis (outbox depth, last sync)
are not kept in any process: they are computed at scrape time.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.errors import GatewayError
from gateway.ports.metrics import Metrics

ENV_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
# 1C and Telegram answer in tens of milliseconds to tens of seconds (ONEC_TIMEOUT is 30 s).
REQUEST_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RENDER_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    """The multiprocess directory from the environment, or None in single-process mode."""
    return os.environ.get(ENV_DIR) or None


class PrometheusMetrics:
    """Counters and histograms of design issue 9, recorded into one registry.

    With `by_base` (ONEC_BASES set) the 1C request, decision and relay metrics carry a `base`
    label, recorded through `for_base(name)`; without it they have exactly the labels they had
    before several bases existed, so single-base dashboards keep working.
    """

    def __init__(self, *, by_base: bool = False) -> None:
        self.by_base = by_base
        base: list[str] = ["base"] if by_base else []
        path = multiprocess_dir()
        if path:
            # prometheus_client writes there from the first metric on, and does not create it.
            os.makedirs(path, exist_ok=True)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._relayed = Counter(
            "gateway_tasks_relayed", "Task cards sent to approvers.", base, registry=r
        )
        self._decisions = Counter(
            "gateway_decisions",
            "Attempts to write a decision to 1C, by decision and outcome.",
            ["decision", "outcome", *base],
            registry=r,
        )
        self._onec = Histogram(
            "gateway_onec_request_seconds",
            "Time of calls to 1C, by connector operation.",
            ["operation", *base],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._telegram = Histogram(
            "gateway_telegram_request_seconds",
            "Time of Bot API calls, by method.",
            ["method"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self._pdf = Histogram(
            "gateway_pdf_render_seconds",
            "Time to render a document as PDF, by engine.",
            ["engine"],
            buckets=RENDER_BUCKETS,
            registry=r,
        )

    def for_base(self, base: str) -> Metrics:
        """The metrics as base `base`'s flow and 1C connector record them."""
        return _BaseMetrics(self, base) if self.by_base else self

    def _labels(self, base: str, **labels: str) -> dict[str, str]:
        return {**labels, "base": base} if self.by_base else labels

    def task_relayed(self, base: str = "") -> None:
        """A card was sent."""
        if self.by_base:
            self._relayed.labels(base=base).inc()
        else:
            self._relayed.inc()

    def decision(self, decision: str, outcome: str, base: str = "") -> None:
        """A decision attempt ended with `outcome`."""
        self._decisions.labels(**self._labels(base, decision=decision, outcome=outcome)).inc()

    def onec_request(self, operation: str, seconds: float, base: str = "") -> None:
        """A 1C call took `seconds`."""
        self._onec.labels(**self._labels(base, operation=operation)).observe(seconds)

    def telegram_request(self, method: str, seconds: float) -> None:
        """A Bot API call took `seconds`."""
        self._telegram.labels(method=method).observe(seconds)

    def pdf_render(self, engine: str, seconds: float) -> None:
        """A PDF rendering took `seconds`."""
        self._pdf.labels(engine=engine).observe(seconds)

    def exposition(self, gauges: Collector | None = None) -> tuple[bytes, str]:
        """The text format for a scrape, and its content type.

        In multiprocess mode the values come from every process's files, not from this
        object, so a scrape answered by any gunicorn worker shows the same totals.
        """
        registry = CollectorRegistry(auto_describe=False)
        path = multiprocess_dir()
        if path:
            registry.register(_SharedFiles(path))
        else:
            registry.register(_Delegate(self.registry))
        if gauges is not None:
            registry.register(gauges)
        return generate_latest(registry), CONTENT_TYPE_LATEST


@dataclass(frozen=True, slots=True)
class _BaseMetrics:
    """PrometheusMetrics as one base records them: its own calls carry its `base` label."""

    metrics: PrometheusMetrics
    base: str

    def task_relayed(self) -> None:
        """A card of this base was sent."""
        self.metrics.task_relayed(self.base)

    def decision(self, decision: str, outcome: str) -> None:
        """A decision attempt in this base ended with `outcome`."""
        self.metrics.decision(decision, outcome, self.base)

    def onec_request(self, operation: str, seconds: float) -> None:
        """A call to this base's 1C took `seconds`."""
        self.metrics.onec_request(operation, seconds, self.base)

    def telegram_request(self, method: str, seconds: float) -> None:
        """A Bot API call (shared by every base) took `seconds`."""
        self.metrics.telegram_request(method, seconds)

    def pdf_render(self, engine: str, seconds: float) -> None:
        """A PDF rendering took `seconds`."""
        self.metrics.pdf_render(engine, seconds)


@dataclass(eq=False)  # registries keep collectors in a dict: identity hashing
class StoreGauges(Collector):
    """Gauges read from the shared store at scrape time (every process sees the same Redis).

    A reading that fails leaves that gauge out of the scrape: Prometheus then shows it absent,
    which alerts on staleness catch, rather than a misleading zero.
    """

    outbox_depth: Callable[[], int]
    last_sync_timestamp: Callable[[], float | None]

    def collect(self) -> Iterator[Metric]:
        """The two gauges, each when its reading succeeds."""
        depth = _safely(self.outbox_depth)
        if depth is not None:
            yield GaugeMetricFamily(
                "gateway_outbox_depth", "Decisions waiting to be written to 1C.", value=depth
            )
        last = _safely(self.last_sync_timestamp)
        if last is not None:
            yield GaugeMetricFamily(
                "gateway_last_sync_timestamp_seconds",
                "Unix time of the last successful 1C sync pass.",
                value=last,
            )


@dataclass(eq=False)
class BaseStoreGauges(Collector):
    """The StoreGauges of several bases in one family each, every sample labelled `base`."""

    bases: Mapping[str, StoreGauges]

    def collect(self) -> Iterator[Metric]:
        """Both gauges for every base whose reading succeeds."""
        depth = GaugeMetricFamily(
            "gateway_outbox_depth", "Decisions waiting to be written to 1C.", labels=["base"]
        )
        last = GaugeMetricFamily(
            "gateway_last_sync_timestamp_seconds",
            "Unix time of the last successful 1C sync pass.",
            labels=["base"],
        )
        for name, gauges in self.bases.items():
            value = _safely(gauges.outbox_depth)
            if value is not None:
                depth.add_metric([name], value)
            value = _safely(gauges.last_sync_timestamp)
            if value is not None:
                last.add_metric([name], value)
        yield depth
        yield last


class _SharedFiles(Collector):
    """Sums the value files in `path` and in its immediate subdirectories.

    prometheus_client names each file after the writing process's pid. Processes in another
    PID namespace (the worker's container) may reuse a web process's pid, so they write to a
    subdirectory of their own (`<dir>/worker`), and the scrape merges both levels.
    """

    def __init__(self, path: str) -> None:
        self._path = path

    def collect(self) -> Iterator[Metric]:
        files = glob.glob(os.path.join(self._path, "*.db"))
        files += glob.glob(os.path.join(self._path, "*", "*.db"))
        merge = multiprocess.MultiProcessCollector.merge
        merged: Iterable[Metric] = merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        yield from merged


class _Delegate(Collector):
    """Exposes another registry's metrics inside the per-scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


def _safely(read: Callable[[], float | int | None]) -> float | None:
    try:
        value = read()
    except GatewayError:  # Redis down must not turn the whole scrape into an error
        return None
    return None if value is None else float(value)
