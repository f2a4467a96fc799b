"""The Flask app factory: the web process of design section 2."""

from __future__ import annotations

import logging
from typing import Any, Final

from flask import Blueprint, Flask, jsonify
from werkzeug.exceptions import RequestEntityTooLarge

from gateway import __version__
from gateway.bootstrap import Gateway, build, load_settings
from gateway.entrypoints.inbound import inbound
from gateway.entrypoints.logs import configure_logging
from gateway.entrypoints.ops import ops
from gateway.settings import Settings

# No route takes more: Telegram's updates and 1C's pushes have lower limits of their own
# (inbound.py); the operators' routes take no body at all.
MAX_BODY_BYTES: Final = 1024 * 1024

log = logging.getLogger(__name__)

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Any:
    """Liveness: the process answers. No I/O, so a slow 1C or Redis never fails it."""
    return jsonify(status="ok", version=__version__)


def too_large(error: RequestEntityTooLarge) -> Any:
    """413 as JSON, like every other answer of the gateway."""
    return jsonify(error="too_large", message="the request body is too large"), 413


def create_app(settings: Settings | None = None, *, gateway: Gateway | None = None) -> Flask:
    """Build the web app; settings come from the environment and `.env` when not given."""
    if gateway is None:
        gateway = build(settings or load_settings())
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # answers are read by people
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["gateway"] = gateway
    app.register_blueprint(health)
    app.register_blueprint(ops)
    app.register_blueprint(inbound)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    return app


def app_from_environment() -> Flask:
    """The production web app (`wsgi.py`): settings from the environment and `.env`, logging
    configured as in every other process (LOG_LEVEL, LOG_FORMAT, secrets masked).

    SettingsError propagates, for the caller to print and stop on.
    """
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    app = create_app(settings)
    gateway: Gateway = app.extensions["gateway"]
    log.info("web process started: PDF engine %s", gateway.renderer.engine)
    return app
