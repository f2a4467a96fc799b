"""Metrics the core reports, and the port's do-nothing implementation."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class DecisionOutcome(StrEnum):
    """How one attempt to write a decision to 1C ended, as `Metrics.decision` counts it (the
    `outcome` label of `gateway_decisions_total`)."""

    APPLIED = "applied"
    STALE = "stale"  # the task or document changed since the card (design 6.12)
    REFUSED = "refused"  # 1C's own code refused (design 6.13)
    ALREADY_COMPLETED = "already_completed"
    NOT_PERFORMER = "not_performer"
    REJECTED = "rejected"
    RETRY = "retry"  # 1C failed; the outbox tries again later
    DEAD_LETTER = "dead_letter"  # every attempt failed; the approver is told


class Metrics(Protocol):
    """Counters and timings for /metrics; the core calls it at the flow's points of interest.

    Adapter timings (1C, Telegram, PDF) are recorded by decorators around those ports, so the
    core only reports what it alone knows: a card relayed, a decision's outcome.
    """

    def task_relayed(self) -> None:
        """A task card was sent to an approver."""
        ...

    def decision(self, decision: str, outcome: str) -> None:
        """One attempt to write a decision to 1C ended with `outcome`."""
        ...

    def onec_request(self, operation: str, seconds: float) -> None: ...

    def telegram_request(self, method: str, seconds: float) -> None: ...

    def pdf_render(self, engine: str, seconds: float) -> None: ...


class NoMetrics:
    """The Metrics port that records nothing (the default where no metrics are wired)."""

    def task_relayed(self) -> None:
        """Record nothing."""

    def decision(self, decision: str, outcome: str) -> None:
        """Record nothing."""

    def onec_request(self, operation: str, seconds: float) -> None:
        """Record nothing."""

    def telegram_request(self, method: str, seconds: float) -> None:
        """Record nothing."""

    def pdf_render(self, engine: str, seconds: float) -> None:
        """Record nothing."""
