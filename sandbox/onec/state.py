"""The emulator's configuration and the state one running instance shares between its routes."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from sandbox.onec.faults import Faults
from sandbox.onec.model import Infobase

DEFAULT_BASE = "/uh"
DEFAULT_USER = "Шлюз"
DEFAULT_PASSWORD = "sandbox"
DEFAULT_HTTP_ROOT = "approvals"
DEFAULT_SEED = "uh"


@dataclass(frozen=True)
class Config:
    """How an emulator instance is published; the password stays out of reprs."""

    base: str = DEFAULT_BASE
    user: str = DEFAULT_USER
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    http_root: str = DEFAULT_HTTP_ROOT
    push_url: str | None = None
    push_secret: str | None = field(default=None, repr=False)
    soap_address: str | None = None  # what the WSDL names; None = the host the client used
    bulk: int = 0  # extra one-stage approvals seeded on start and on reset
    seed: str = DEFAULT_SEED  # which infobase to seed: "uh" (УХ) or "erp" (ERP), see seed.SEEDS
    title: str = ""  # the infobase's name for people ("" = the seed's own, e.g. УХ)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", "/" + self.base.strip("/") if self.base.strip("/") else "")


class RequestLog:
    """The log of requests to the 1C routes, newest last, bounded."""

    def __init__(self, size: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


@dataclass
class Sandbox:
    """Everything one emulator instance holds; routes reach it through `current()`."""

    config: Config
    infobase: Infobase
    faults: Faults = field(default_factory=Faults)
    log: RequestLog = field(default_factory=RequestLog)
    print_cache: dict[tuple[str, str], bytes] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def current() -> Sandbox:
    """The sandbox behind the Flask app handling this request."""
    sandbox: Sandbox = current_app.extensions["onec_sandbox"]
    return sandbox
