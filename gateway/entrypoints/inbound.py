"""Inbound routes: Telegram's webhook and 1C's push. Both store what arrived and answer at once;
the workers do the work."""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request

from gateway.bootstrap import BaseGateway, Gateway
from gateway.errors import GatewayError
from gateway.usecases import push

log = logging.getLogger(__name__)

inbound = Blueprint("inbound", __name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An Update is a few kilobytes (a 4096-character message, escaped, with its entities); a push
# carries at most 100 events of about 150 bytes (docs/onec-extension.md). Both bounds leave room;
# beyond them the answer is 413 and nothing is read further.
MAX_UPDATE_BYTES: Final = 256 * 1024
MAX_PUSH_BYTES: Final = 256 * 1024


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["gateway"]
    return gateway


@inbound.post("/telegram/webhook")
def telegram_webhook() -> Any:
    """Store the update durably (once per update id) and answer 200; 403 without our secret."""
    gateway = _gateway()
    expected = gateway.settings.telegram_webhook_secret.reveal()
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("webhook call without the right secret refused")
        return jsonify(error="forbidden"), 403
    request.max_content_length = MAX_UPDATE_BYTES
    body = request.get_data(as_text=True)
    try:
        update_id = json.loads(body)["update_id"]
        if not isinstance(update_id, int):
            raise TypeError("update_id is not an integer")
    except (ValueError, KeyError, TypeError):
        return jsonify(error="invalid", message="not a Telegram Update"), 400
    try:
        fresh = gateway.store.push_update(update_id, body)
    except GatewayError as exc:
        # Not stored: a non-2xx makes Telegram deliver it again later.
        log.error("webhook update %s not stored: %s", update_id, exc)
        return jsonify(error="unavailable"), 503
    return jsonify(ok=True, duplicate=not fresh), 200


@inbound.post("/onec/events")
def onec_events() -> Any:
    """A signed push from the single base's 1C (with ONEC_BASES each base has its own route)."""
    gateway = _gateway()
    if gateway.settings.several_bases:
        return jsonify(error="not_found", message="name the base: POST /onec/events/<base>"), 404
    return _accept_push(gateway.first)


@inbound.post("/onec/events/<base>")
def onec_base_events(base: str) -> Any:
    """A signed push from base `base`'s 1C, signed with its own ONEC_<BASE>_PUSH_SECRET."""
    gateway = _gateway()
    if not base or base not in gateway.bases:
        return jsonify(error="not_found", message="no such base"), 404
    return _accept_push(gateway.bases[base])


def _accept_push(base: BaseGateway) -> Any:
    """Refuse bad, old and replayed pushes; ask the base's sync leader for the tasks named."""
    request.max_content_length = MAX_PUSH_BYTES
    try:
        received = push.verify(
            base.settings.push_secret.reveal(),
            request.headers.get("X-Gateway-Timestamp"),
            request.headers.get("X-Gateway-Signature"),
            request.get_data(),
            time.time(),
            setting=base.settings.variable("ONEC_PUSH_SECRET"),
        )
    except push.PushRejected as exc:
        log.warning("push from 1C%s refused: %s", _of(base), exc)
        return jsonify(error="unauthorized", message=str(exc)), 401
    try:
        if not base.store.first_use(f"push:{received.signature}", 2 * push.WINDOW_SECONDS):
            log.warning("replayed push from 1C%s refused", _of(base))
            return jsonify(error="unauthorized", message="replayed push"), 401
        base.store.request_sync(received.task_ids)
    except GatewayError as exc:
        log.error("push from 1C%s not stored: %s", _of(base), exc)
        return jsonify(error="unavailable"), 503
    return jsonify(accepted=received.events), 200


def _of(base: BaseGateway) -> str:
    return f" (base {base.name})" if base.name else ""
