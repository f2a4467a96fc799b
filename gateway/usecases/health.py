"""Readiness: probe each dependency and say which answered and why the others did not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.errors import GatewayError
from gateway.ports.pingable import Pingable


@dataclass(frozen=True, slots=True)
class Readiness:
    """Names of dependencies that answered, and a reason for each that did not."""

    ok: list[str] = field(default_factory=list)
    failing: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """True when nothing is failing."""
        return not self.failing


def check_readiness(dependencies: Mapping[str, Pingable]) -> Readiness:
    """Ping every dependency in order; a GatewayError becomes that dependency's reason.

    Anything else a ping raises is a bug in an adapter and propagates.
    """
    result = Readiness()
    for name, dependency in dependencies.items():
        try:
            dependency.ping()
        except GatewayError as exc:
            result.failing[name] = str(exc)
        else:
            result.ok.append(name)
    return result
