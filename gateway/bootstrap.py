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
from gateway.settings import OneCBaseSettings, Settings
from gateway.usecases.context import FlowContext


def namespace(redis_prefix: str, base: str) -> str:
    """The Redis prefix of `base`'s keys: REDIS_PREFIX itself for the single base (keys as
    before several bases existed), `<REDIS_PREFIX><base>:` for a named one."""
    return f"{redis_prefix}{base}:" if base else redis_prefix


@dataclass
class BaseGateway:
    """One infobase's own adapters: its 1C connector, its Redis namespace, its document cache."""

    settings: OneCBaseSettings
    onec: OneC
    store: Store
    documents: DocumentCache
    gateway: Gateway = field(repr=False)  # the shared parts: messenger, renderer, root store

    @property
    def name(self) -> str:
        """The base's name in ONEC_BASES ("" for the single base)."""
        return self.settings.name

    @property
    def prefers_print_form(self) -> bool:
        """The http and soap connectors can give 1C's own print form; OData cannot."""
        return self.settings.connector in (Connector.HTTP, Connector.SOAP)

    def flow(self) -> FlowContext:
        """The approval flow's context for this base.

        The update stream and invites are the root namespace's (one bot, one stream); every
        other storage port is the base's own namespace."""
        shared = self.gateway
        s = shared.settings
        base = self.settings
        context = FlowContext.over(
            base=base.infobase,
            onec=self.onec,
            messenger=shared.messenger,
            store=self.store,
            renderer=shared.renderer,
            documents=self.documents,
            texts=Texts(s.gateway_language),
            secret=s.gateway_secret.reveal(),
            prefers_print_form=self.prefers_print_form,
            remind_after_hours=s.remind_after_hours,
            work_hours=s.work_hours,
            metrics=shared.metrics.for_base(base.name),
            other_tasks=base.other_tasks,
            users_group=base.users_group,
            admins_group=base.admins_group,
            mask=SecretMask(s.secret_values()),
            send_pdf=s.telegram_send_pdf,
            card_fields=s.telegram_card_fields,
        )
        context.updates = shared.store
        context.invites = shared.store
        return context


@dataclass
class Gateway:
    """Everything an entry point needs, wired from one Settings.

    `bases` holds each infobase's own adapters, in ONEC_BASES order (one, under "", without
    ONEC_BASES); `onec`, `documents` and `flow()` are the first base's, for code that serves one.
    """

    settings: Settings
    store: Store  # the root namespace: updates, invites, inbound counters, the poller lock
    renderer: PdfRenderer
    telegram: TelegramBot
    messenger: ThrottledMessenger
    bases: dict[str, BaseGateway] = field(default_factory=dict)
    extra_checks: dict[str, Pingable] = field(default_factory=dict)
    metrics: PrometheusMetrics = field(default_factory=PrometheusMetrics)

    @property
    def first(self) -> BaseGateway:
        """The first base of ONEC_BASES (the only one without it)."""
        return next(iter(self.bases.values()))

    @property
    def onec(self) -> OneC:
        """The first base's 1C connector."""
        return self.first.onec

    @property
    def documents(self) -> DocumentCache:
        """The first base's document cache."""
        return self.first.documents

    @property
    def prefers_print_form(self) -> bool:
        """The http and soap connectors can give 1C's own print form; OData cannot."""
        return self.first.prefers_print_form

    def dependencies(self) -> dict[str, Pingable]:
        """What readiness and `check` probe, by name, in the order they are reported: one 1C
        entry per base (`1c`, or `1c:uh`, `1c:erp` with ONEC_BASES), then the shared parts."""
        return {
            **{onec_dependency(name): base.onec for name, base in self.bases.items()},
            Dependency.REDIS: self.store,
            Dependency.TELEGRAM: self.telegram,
            Dependency.PDF: self.renderer,
            **self.extra_checks,
        }

    def flow(self) -> FlowContext:
        """The approval flow's context of the first base."""
        return self.first.flow()

    def flows(self) -> list[FlowContext]:
        """Every base's flow context, in ONEC_BASES order."""
        return [base.flow() for base in self.bases.values()]

    def close(self) -> None:
        """Release what the adapters hold open (the Telegram loop thread)."""
        self.telegram.close()


def onec_dependency(base: str) -> str:
    """The name readiness and `check` report base `base`'s 1C under: `1c` or `1c:<base>`."""
    return f"{Dependency.ONEC}:{base}" if base else str(Dependency.ONEC)


def build(
    settings: Settings,
    *,
    store: Store | None = None,
    onec: OneC | Mapping[str, OneC] | None = None,
    renderer: PdfRenderer | None = None,
    documents: DocumentCache | None = None,
    telegram: TelegramBot | None = None,
    limiter: RateLimiter | None = None,
    metrics: PrometheusMetrics | None = None,
    base_stores: Mapping[str, Store] | None = None,
) -> Gateway:
    """Wire the gateway for `settings`; a keyword replaces that adapter (tests, benchmarks).

    `onec` may map base names to connectors; a single connector serves the first base.
    `store` replaces the root namespace (and the single base's); `base_stores` the named
    bases' namespaces, which are otherwise RedisStores under `<REDIS_PREFIX><base>:`.
    `documents` replaces the first base's document cache."""
    telegram = telegram or TelegramBot(
        settings.telegram_bot_token.reveal(),
        settings.telegram_api_url,
        proxy=settings.telegram_proxy_url.reveal(),
    )
    limiter = limiter or RedisRateLimiter(
        connect(settings.redis_url.reveal()), settings.redis_prefix
    )
    metrics = metrics or PrometheusMetrics(by_base=settings.several_bases)
    root = store or RedisStore(connect(settings.redis_url.reveal()), settings.redis_prefix)
    gateway = Gateway(
        settings=settings,
        store=root,
        renderer=InstrumentedRenderer(
            renderer
            or create_renderer(
                settings.pdf_engine,
                templates_dir=settings.pdf_templates_dir,
                language=settings.gateway_language,
            ),
            metrics,
        ),
        telegram=telegram,
        messenger=ThrottledMessenger(InstrumentedMessenger(telegram, metrics), limiter),
        metrics=metrics,
    )
    for index, base in enumerate(settings.bases):
        if isinstance(onec, Mapping):
            connector = onec.get(base.name)
        else:
            connector = onec if index == 0 else None
        prefix = namespace(settings.redis_prefix, base.name)
        base_store = (base_stores or {}).get(base.name) or (
            root if not base.name else RedisStore(connect(settings.redis_url.reveal()), prefix)
        )
        gateway.bases[base.name] = BaseGateway(
            settings=base,
            onec=InstrumentedOneC(connector or build_onec(base), metrics.for_base(base.name)),
            store=base_store,
            documents=(documents if index == 0 else None)
            or RedisDocumentCache(connect_binary(settings.redis_url.reveal()), prefix),
            gateway=gateway,
        )
    return gateway


def build_onec(settings: Settings | OneCBaseSettings) -> OneC:
    """The 1C connector a base's CONNECTOR names, on one HTTP session of its own (the first
    base's when given the whole Settings)."""
    base = settings.bases[0] if isinstance(settings, Settings) else settings
    session = OneCSession(
        username=base.username,
        password=base.password.reveal(),
        timeout=base.timeout,
        verify=base.tls_verify,
    )
    if base.connector == Connector.HTTP:
        return HttpServiceConnector(session, base.http_base)
    if base.connector == Connector.SOAP:
        # The address comes from the base URL: a published WSDL often names an internal host.
        return SoapConnector(session, base.soap_wsdl, f"{base.base_url}/ws/approvals")
    return ODataConnector(
        session,
        base.base_url,
        load_profile(base.profile),
        approval_processes=base.approval_processes,
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
