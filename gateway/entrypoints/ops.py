"""Operators' endpoints: `/readyz`, `/status` and `/metrics` (design section 2, issue 9).

None of them shows a secret or an approver's personal data: readiness reasons and `/status`'s
error text pass through the same masking as the logs, `/status` has counts only, metrics carry
no user labels.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from adapters.metrics.prometheus import BaseStoreGauges, StoreGauges
from gateway import __version__
from gateway.bootstrap import Gateway
from gateway.entrypoints.logs import SecretMaskingFilter
from gateway.errors import GatewayError
from gateway.ports.storage import LeaderRole
from gateway.usecases.health import check_readiness
from gateway.usecases.status import bases_status, collect_status, last_sync_timestamp

ops = Blueprint("ops", __name__)


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["gateway"]
    return gateway


@ops.get("/readyz")
def readyz() -> Any:
    """Ping 1C, Redis, Telegram (getMe, cached) and the PDF engine (cached); 200 or 503.

    `pdf_engine` names the engine in use, which PDF_ENGINE=auto picks at start."""
    gateway = _gateway()
    readiness = check_readiness(gateway.dependencies())
    masking = SecretMaskingFilter(gateway.settings.secret_values())
    failing = {name: masking.mask(reason) for name, reason in readiness.failing.items()}
    body = {"ok": readiness.ok, "failing": failing, "pdf_engine": gateway.renderer.engine}
    return jsonify(body), 200 if readiness.ready else 503


@ops.get("/status")
def status() -> Any:
    """The gateway's state for operators; 503 with the reason when Redis cannot be read.

    With several bases: the shared fields once and each base's own under `bases`."""
    gateway = _gateway()
    settings = gateway.settings
    masking = SecretMaskingFilter(settings.secret_values())
    try:
        reports = {
            name: collect_status(
                base.store,
                version=__version__,
                connector=base.settings.connector,
                telegram_mode=settings.telegram_mode,
                poll_interval=base.settings.poll_interval,
                leader=base.store.leader(LeaderRole.SYNC),
                now=datetime.now().astimezone(),
                mask=masking.mask,
            )
            for name, base in gateway.bases.items()
        }
        if not settings.several_bases:
            return jsonify(reports[""].as_dict())
        titles = {name: base.settings.infobase.title for name, base in gateway.bases.items()}
        body = bases_status(reports, titles, gateway.store.dead_update_count())
    except GatewayError as exc:
        return jsonify(error="redis_unavailable", message=masking.mask(str(exc))), 503
    return jsonify(body)


@ops.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; the Redis gauges are read now, the rest summed over processes.

    With several bases the gauges are per base, labelled `base`."""
    gateway = _gateway()
    per_base = {
        name: StoreGauges(
            outbox_depth=base.store.outbox_depth,
            last_sync_timestamp=functools.partial(last_sync_timestamp, base.store),
        )
        for name, base in gateway.bases.items()
    }
    gauges = BaseStoreGauges(per_base) if gateway.settings.several_bases else per_base[""]
    body, content_type = gateway.metrics.exposition(gauges)
    return Response(body, content_type=content_type)
