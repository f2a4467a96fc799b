"""How big each scenario runs: `full` (the issue's sizes), `quick` (under two minutes), `smoke`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Counts for one run; every loop in the bench is bounded by one of these and a deadline."""

    name: str
    relay_tasks: int  # (a) tasks, spread over `relay_documents` documents
    relay_approvers: int
    relay_documents: int
    latency_samples: int  # (b) pushes and presses measured
    polling_samples: int  # (b) the same in polling mode, for comparison
    polling_interval: float  # (b) ONEC_POLL_INTERVAL of the polling comparison, seconds
    sync_pending: tuple[int, ...]  # (c) pending tasks, each measured with every connector
    sync_passes: int  # (c) passes averaged per figure
    sync_all_connectors_up_to: int  # (c) above this count only http runs (quick: time)
    pdf_documents: int  # (d) documents rendered per engine
    memory_pending: int  # (e) pending tasks the worker subprocess holds
    drain_timeout: float  # seconds a relay may take before it is reported unfinished
    relay_far: bool = True  # (a) once more with 100 ms per Bot API call (a reference, no target)
    memory_connectors: tuple[str, ...] = ("odata", "http")  # (e) measured with each of these


FULL = Sizes(
    name="full",
    relay_tasks=1000,
    relay_approvers=200,
    relay_documents=200,
    latency_samples=40,
    polling_samples=15,
    polling_interval=2.0,
    sync_pending=(100, 1000, 10_000),
    sync_passes=3,
    sync_all_connectors_up_to=10_000,
    pdf_documents=20,
    memory_pending=10_000,
    drain_timeout=600.0,
)

QUICK = Sizes(
    name="quick",
    relay_tasks=200,
    relay_approvers=40,
    relay_documents=40,
    latency_samples=12,
    polling_samples=5,
    polling_interval=1.0,
    sync_pending=(100, 1000, 10_000),
    sync_passes=2,
    sync_all_connectors_up_to=1000,
    pdf_documents=5,
    memory_pending=10_000,
    drain_timeout=60.0,
    relay_far=False,  # these two keep the quick run under two minutes on a slow machine;
    memory_connectors=("odata",),  # odata is the heavier, closest to its target
)

SMOKE = Sizes(
    name="smoke",
    relay_tasks=6,
    relay_approvers=3,
    relay_documents=2,
    latency_samples=2,
    polling_samples=1,
    polling_interval=0.5,
    sync_pending=(10,),
    sync_passes=1,
    sync_all_connectors_up_to=10,
    pdf_documents=1,
    memory_pending=20,
    drain_timeout=30.0,
)

BY_NAME = {s.name: s for s in (FULL, QUICK, SMOKE)}
