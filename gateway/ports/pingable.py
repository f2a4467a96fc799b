"""What every outside system offers the readiness check."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Dependency(StrEnum):
    """The names readiness (`/readyz`) and `check` report each outside system under."""

    ONEC = "1c"
    REDIS = "redis"
    TELEGRAM = "telegram"
    PDF = "pdf"


class Pingable(Protocol):
    """Anything the readiness check and `check` can probe; raises a GatewayError when down."""

    def ping(self) -> None: ...
