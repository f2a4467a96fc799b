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

from adapters.metrics import (
    InstrumentedMessenger,
    InstrumentedOneC,
    InstrumentedRenderer,
    PrometheusMetrics,
)
from adapters.onec import (
    HttpServiceConnector,
    ODataConnector,
    OneCSession,
    SoapConnector,
    load_profile,
)
from adapters.pdf import create_renderer
from adapters.redis_store import (
    RedisDocumentCache,
    RedisRateLimiter,
    RedisStore,
    connect,
    connect_binary,
)
from adapters.telegram import TelegramBot
from adapters.telegram.throttle import ThrottledMessenger
from gateway.masking import SecretMask
from gateway.ports.documents import DocumentCache, PdfRenderer
from gateway.ports.messenger import RateLimiter
from gateway.ports.onec import Connector, OneC
from gateway.ports.pingable import Dependency, Pingable
from gateway.ports.storage import Store
from gateway.presentation.texts import Texts
from gateway.settings import Settings
from gateway.usecases.context import FlowContext


@dataclass
class Gateway:
    """Everything an entry point needs, wired from one Settings."""

    settings: Settings
    store: Store
    onec: OneC
    renderer: PdfRenderer
    documents: DocumentCache
    telegram: TelegramBot
    messenger: ThrottledMessenger
    extra_checks: dict[str, Pingable] = field(default_factory=dict)
    metrics: PrometheusMetrics = field(default_factory=PrometheusMetrics)

    @property
    def prefers_print_form(self) -> bool:
        """The http and soap connectors can give 1C's own print form; OData cannot."""
        return self.settings.onec_connector in (Connector.HTTP, Connector.SOAP)

    def dependencies(self) -> dict[str, Pingable]:
        """What readiness and `check` probe, by name, in the order they are reported."""
        return {
            Dependency.ONEC: self.onec,
            Dependency.REDIS: self.store,
            Dependency.TELEGRAM: self.telegram,
            Dependency.PDF: self.renderer,
            **self.extra_checks,
        }

    def flow(self) -> FlowContext:
        """The approval flow's context on these adapters."""
        s = self.settings
        return FlowContext.over(
            onec=self.onec,
            messenger=self.messenger,
            store=self.store,
            renderer=self.renderer,
            documents=self.documents,
            texts=Texts(s.gateway_language),
            secret=s.gateway_secret.reveal(),
            prefers_print_form=self.prefers_print_form,
            remind_after_hours=s.remind_after_hours,
            work_hours=s.work_hours,
            metrics=self.metrics,
            other_tasks=s.onec_other_tasks,
            users_group=s.onec_users_group,
            admins_group=s.onec_admins_group,
            mask=SecretMask(s.secret_values()),
            send_pdf=s.telegram_send_pdf,
            card_fields=s.telegram_card_fields,
        )

    def close(self) -> None:
        """Release what the adapters hold open (the Telegram loop thread)."""
        self.telegram.close()


def build(
    settings: Settings,
    *,
    store: Store | None = None,
    onec: OneC | None = None,
    renderer: PdfRenderer | None = None,
    documents: DocumentCache | None = None,
    telegram: TelegramBot | None = None,
    limiter: RateLimiter | None = None,
    metrics: PrometheusMetrics | None = None,
) -> Gateway:
    """Wire the gateway for `settings`; a keyword replaces that adapter (tests, benchmarks)."""
    telegram = telegram or TelegramBot(
        settings.telegram_bot_token.reveal(),
        settings.telegram_api_url,
        proxy=settings.telegram_proxy_url.reveal(),
    )
    limiter = limiter or RedisRateLimiter(
        connect(settings.redis_url.reveal()), settings.redis_prefix
    )
    metrics = metrics or PrometheusMetrics()
    return Gateway(
        settings=settings,
        store=store or RedisStore(connect(settings.redis_url.reveal()), settings.redis_prefix),
        onec=InstrumentedOneC(onec or build_onec(settings), metrics),
        renderer=InstrumentedRenderer(
            renderer
            or create_renderer(
                settings.pdf_engine,
                templates_dir=settings.pdf_templates_dir,
                language=settings.gateway_language,
            ),
            metrics,
        ),
        documents=documents
        or RedisDocumentCache(connect_binary(settings.redis_url.reveal()), settings.redis_prefix),
        telegram=telegram,
        messenger=ThrottledMessenger(InstrumentedMessenger(telegram, metrics), limiter),
        metrics=metrics,
    )


def build_onec(settings: Settings) -> OneC:
    """The 1C connector ONEC_CONNECTOR names, on one shared HTTP session."""
    session = OneCSession(
        username=settings.onec_username,
        password=settings.onec_password.reveal(),
        timeout=settings.onec_timeout,
        verify=settings.onec_tls_verify,
    )
    if settings.onec_connector == Connector.HTTP:
        return HttpServiceConnector(session, settings.onec_http_base)
    if settings.onec_connector == Connector.SOAP:
        # The address comes from ONEC_BASE_URL: a published WSDL often names an internal host.
        return SoapConnector(
            session, settings.onec_soap_wsdl, f"{settings.onec_base_url}/ws/approvals"
        )
    return ODataConnector(
        session,
        settings.onec_base_url,
        load_profile(settings.onec_profile),
        approval_processes=settings.onec_approval_processes,
    )


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
