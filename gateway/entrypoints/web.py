"""The Flask app factory: the web process of design section 2."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify

from gateway import __version__
from gateway.bootstrap import Gateway, build, load_settings
from gateway.entrypoints.inbound import inbound
from gateway.entrypoints.ops import ops
from gateway.settings import Settings

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Any:
    """Liveness: the process answers. No I/O, so a slow 1C or Redis never fails it."""
    return jsonify(status="ok", version=__version__)


def create_app(settings: Settings | None = None, *, gateway: Gateway | None = None) -> Flask:
    """Build the web app; settings come from the environment and `.env` when not given."""
    if gateway is None:
        gateway = build(settings or load_settings())
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # answers are read by people
    app.extensions["gateway"] = gateway
    app.register_blueprint(health)
    app.register_blueprint(ops)
    app.register_blueprint(inbound)
    return app
