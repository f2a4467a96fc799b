"""Runs sync passes and keeps the shared status: last sync, 1C outages, admin alerts.

1C unreachable for ONEC_DOWN_ALERT_AFTER → one alert to admins; reachable again → one more.
Sync failing for other reasons SYNC_FAILURE_ALERT_AFTER times in a row → one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, Protocol

from gateway.errors import GatewayError, UpstreamUnavailable
from gateway.ports.storage import StatusStore
from gateway.presentation import cards
from gateway.presentation.texts import escape
from gateway.usecases.alerts import alert_admins
from gateway.usecases.sync import SyncPorts, SyncReport, sync_pass

log = logging.getLogger(__name__)

ONEC_DOWN_ALERT_AFTER: Final = timedelta(minutes=5)
SYNC_FAILURE_ALERT_AFTER: Final = 5


class MonitorPorts(SyncPorts, Protocol):
    """What a monitored pass needs besides the pass's own ports."""

    status: StatusStore

    # Read-only: a function as a dataclass field's default reads as a method.
    @property
    def mask(self) -> Callable[[str], str]:
        """Hides the settings' secrets in an error text that goes to the status or a chat."""
        ...


def monitored_sync(ctx: MonitorPorts) -> SyncReport | None:
    """One sync pass with its outcome recorded in the status; None when it failed."""
    status = ctx.status.get_status()
    now = ctx.now()
    try:
        report = sync_pass(ctx)
    except UpstreamUnavailable as exc:
        if exc.upstream != "1C":
            raise
        _onec_down(ctx, status, now, ctx.mask(str(exc)))
        return None
    except GatewayError as exc:
        failures = int(status.get("sync_failures") or 0) + 1
        error = ctx.mask(str(exc))
        ctx.status.set_status(sync_failures=str(failures), last_sync_error=error)
        log.error("sync failed (%d in a row): %s", failures, error)
        if failures == SYNC_FAILURE_ALERT_AFTER:
            alert_admins(
                ctx, ctx.texts.t("admin.sync_failing", count=failures, error=escape(error))
            )
        return None
    if status.get("onec_down_since"):
        since = datetime.fromisoformat(status["onec_down_since"])
        log.info("1C reachable again (down since %s)", since.isoformat())
        if status.get("onec_down_alerted"):
            alert_admins(ctx, ctx.texts.t("admin.onec_back", since=cards.format_moment(since)))
    ctx.status.set_status(
        last_sync_at=now.isoformat(),
        last_sync_pending=str(report.pending),
        last_sync_error="",
        sync_failures="",
        onec_down_since="",
        onec_down_alerted="",
    )
    if report.delivered or report.closed or report.refreshed:
        log.info(
            "sync: %d pending, %d delivered, %d refreshed, %d closed, %d reminded",
            report.pending,
            report.delivered,
            report.refreshed,
            report.closed,
            report.reminded,
        )
    return report


def _onec_down(ctx: MonitorPorts, status: dict[str, str], now: datetime, error: str) -> None:
    since_text = status.get("onec_down_since")
    since = datetime.fromisoformat(since_text) if since_text else now
    ctx.status.set_status(onec_down_since=since.isoformat(), last_sync_error=error)
    log.warning("1C unreachable since %s: %s", since.isoformat(), error)
    if not status.get("onec_down_alerted") and now - since >= ONEC_DOWN_ALERT_AFTER:
        alert_admins(
            ctx,
            ctx.texts.t("admin.onec_down", since=cards.format_moment(since), error=escape(error)),
        )
        ctx.status.set_status(onec_down_alerted="1")
