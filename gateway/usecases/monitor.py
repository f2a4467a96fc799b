"""Runs sync passes and keeps the shared status: last sync, 1C outages, admin alerts.

1C unreachable for ONEC_DOWN_ALERT_AFTER → one alert to admins; reachable again → one more.
Sync failing for other reasons SYNC_FAILURE_ALERT_AFTER times in a row → one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, Protocol

from gateway.errors import GatewayError, Upstream, UpstreamUnavailable
from gateway.ports.storage import StatusField, StatusStore
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
        if exc.upstream != Upstream.ONEC:
            raise
        _onec_down(ctx, status, now, ctx.mask(str(exc)))
        return None
    except GatewayError as exc:
        failures = int(status.get(StatusField.SYNC_FAILURES) or 0) + 1
        error = ctx.mask(str(exc))
        ctx.status.set_status(
            **{StatusField.SYNC_FAILURES: str(failures), StatusField.LAST_SYNC_ERROR: error}
        )
        log.error("sync%s failed (%d in a row): %s", _of(ctx), failures, error)
        if failures == SYNC_FAILURE_ALERT_AFTER:
            alert_admins(
                ctx, ctx.texts.t("admin.sync_failing", count=failures, error=escape(error))
            )
        return None
    if status.get(StatusField.ONEC_DOWN_SINCE):
        since = datetime.fromisoformat(status[StatusField.ONEC_DOWN_SINCE])
        log.info("1C%s reachable again (down since %s)", _of(ctx), since.isoformat())
        if status.get(StatusField.ONEC_DOWN_ALERTED):
            alert_admins(ctx, ctx.texts.t("admin.onec_back", since=cards.format_moment(since)))
    ctx.status.set_status(
        **{
            StatusField.LAST_SYNC_AT: now.isoformat(),
            StatusField.LAST_SYNC_PENDING: str(report.pending),
            StatusField.LAST_SYNC_ERROR: "",
            StatusField.SYNC_FAILURES: "",
            StatusField.ONEC_DOWN_SINCE: "",
            StatusField.ONEC_DOWN_ALERTED: "",
        }
    )
    if report.delivered or report.closed or report.refreshed:
        log.info(
            "sync%s: %d pending, %d delivered, %d refreshed, %d closed, %d reminded",
            _of(ctx),
            report.pending,
            report.delivered,
            report.refreshed,
            report.closed,
            report.reminded,
        )
    return report


def _onec_down(ctx: MonitorPorts, status: dict[str, str], now: datetime, error: str) -> None:
    since_text = status.get(StatusField.ONEC_DOWN_SINCE)
    since = datetime.fromisoformat(since_text) if since_text else now
    ctx.status.set_status(
        **{StatusField.ONEC_DOWN_SINCE: since.isoformat(), StatusField.LAST_SYNC_ERROR: error}
    )
    log.warning("1C%s unreachable since %s: %s", _of(ctx), since.isoformat(), error)
    if not status.get(StatusField.ONEC_DOWN_ALERTED) and now - since >= ONEC_DOWN_ALERT_AFTER:
        alert_admins(
            ctx,
            ctx.texts.t("admin.onec_down", since=cards.format_moment(since), error=escape(error)),
        )
        ctx.status.set_status(**{StatusField.ONEC_DOWN_ALERTED: "1"})


def _of(ctx: MonitorPorts) -> str:
    """` of base uh` in log lines about a named base; nothing for the single base."""
    return f" of base {ctx.base.name}" if ctx.base.named else ""
