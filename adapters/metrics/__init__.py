"""Metrics: the core's Metrics port on prometheus_client, and timing decorators for the ports.

`PrometheusMetrics` records; `InstrumentedOneC`, `InstrumentedMessenger` and
`InstrumentedRenderer` wrap the 1C, Telegram and PDF ports at the composition root and time
every call. See deploy/README.md for multiprocess mode (several gunicorn workers plus the worker).
"""

from adapters.metrics.instrumented import (
    InstrumentedMessenger,
    InstrumentedOneC,
    InstrumentedRenderer,
)
from adapters.metrics.prometheus import PrometheusMetrics, multiprocess_dir

__all__ = [
    "InstrumentedMessenger",
    "InstrumentedOneC",
    "InstrumentedRenderer",
    "PrometheusMetrics",
    "multiprocess_dir",
]
