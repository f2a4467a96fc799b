"""The composition root: the one place that picks concrete adapters for the core's ports.

`build(settings, **overrides)` wires everything lazily (no connection is opened here), so
entry points, tests and benchmarks share one wiring and override only what they must.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from adapters.onec import HttpServiceConnector, ODataConnector, OneCSession, load_profile
from adapters.redis_store import RedisStore, connect
from gateway.ports import OneC, Pingable, Store
from gateway.settings import Settings


@dataclass
class Gateway:
    """Everything an entry point needs, wired from one Settings."""

    settings: Settings
    store: Store
    onec: OneC
    extra_checks: dict[str, Pingable] = field(default_factory=dict)

    def dependencies(self) -> dict[str, Pingable]:
        """What readiness and `check` probe, by name, in the order they are reported."""
        return {"1c": self.onec, "redis": self.store, **self.extra_checks}


def build(settings: Settings, **overrides: object) -> Gateway:
    """Wire the gateway for `settings`; pass `store=...` etc. to replace an adapter."""
    store = overrides.pop("store", None) or RedisStore(
        connect(settings.redis_url.reveal()), settings.redis_prefix
    )
    onec = overrides.pop("onec", None) or build_onec(settings)
    if overrides:
        raise TypeError(f"build() got unknown overrides: {', '.join(sorted(overrides))}")
    return Gateway(settings=settings, store=store, onec=onec)  # type: ignore[arg-type]


def build_onec(settings: Settings) -> OneC:
    """The 1C connector ONEC_CONNECTOR names, on one shared HTTP session."""
    session = OneCSession(
        username=settings.onec_username,
        password=settings.onec_password.reveal(),
        timeout=settings.onec_timeout,
    )
    if settings.onec_connector == "http":
        return HttpServiceConnector(session, settings.onec_http_base)
    return ODataConnector(session, settings.onec_base_url, load_profile(settings.onec_profile))


def load_environment(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, str]:
    """The process environment over the values of a `.env` file (the environment wins)."""
    merged: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment and `.env`; raises SettingsError listing every problem."""
    return Settings.from_env(load_environment(environ))
