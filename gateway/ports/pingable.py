"""What every outside system offers the readiness check."""

from __future__ import annotations

from typing import Protocol


class Pingable(Protocol):
    """Anything the readiness check and `check` can probe; raises a GatewayError when down."""

    def ping(self) -> None: ...
