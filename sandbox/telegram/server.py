"""The HTTP face: `/bot<token>/<method>`, `/file/bot<token>/<path>` and the control API."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.telegram.api_spec import ApiSpec, Upload, default_spec
from sandbox.telegram.control import control_api
from sandbox.telegram.errors import (
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    too_many_requests,
)
from sandbox.telegram.methods import (
    FLOOD_COUNTED,
    METHODS_BY_LOWER_NAME,
    SERVED_METHODS,
    Described,
)
from sandbox.telegram.state import SandboxState

# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 1024 * 1024


def create_app(state: SandboxState, spec: ApiSpec | None = None) -> Flask:
    """A Flask app serving one bot over `state`, checked against `spec` (the shipped api.json)."""
    spec = spec or default_spec()
    missing = set(SERVED_METHODS) - set(spec.methods)
    if missing:
        raise ValueError(f"api.json does not describe {sorted(missing)}")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = state.config.max_upload_bytes + MULTIPART_OVERHEAD
    app.extensions["tg1c_sandbox_state"] = state
    app.register_blueprint(control_api(state))

    @app.route("/bot<token>/<method>", methods=["GET", "POST"])
    def bot_api(token: str, method: str) -> Response:
        started = time.time()
        if state.latency:
            time.sleep(state.latency)  # the way to Telegram and back, outside the state lock
        name = METHODS_BY_LOWER_NAME.get(method.lower(), method)
        params: dict[str, Any] = {}
        ignored: list[str] = []
        try:
            if token != state.config.token:
                raise UNAUTHORIZED
            if name not in SERVED_METHODS:
                raise NOT_FOUND
            raw, files = _request_parameters()
            params, ignored = spec.parse(name, raw, files)
            if name in FLOOD_COUNTED and "chat_id" in params:
                retry_after = state.flood.acquire(params["chat_id"])
                if retry_after is not None:
                    raise too_many_requests(retry_after)
            with state.lock:
                result = SERVED_METHODS[name](state, params)
        except ApiError as exc:
            _log(state, name, params, ignored, exc.error_code, exc.description, started)
            return _json(exc.body(), exc.error_code)
        body: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, Described):
            body = {"ok": True, "result": result.result, "description": result.description}
        _log(state, name, params, ignored, 200, None, started)
        return _json(body, 200)

    @app.route("/file/bot<token>/<path:file_path>")
    def download(token: str, file_path: str) -> Response:
        if token != state.config.token:
            return _json(UNAUTHORIZED.body(), 401)
        with state.lock:
            stored = state.file_by_path(file_path)
        if stored is None:
            return _json(NOT_FOUND.body(), 404)
        return Response(stored.data, mimetype=stored.mime_type)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Response:
        return _json(ApiError(413, "Request Entity Too Large").body(), 413)

    @app.errorhandler(404)
    def not_found(exc: Exception) -> Response:
        return _json(NOT_FOUND.body(), 404)

    @app.errorhandler(405)
    def not_allowed(exc: Exception) -> Response:
        return _json(NOT_FOUND.body(), 404)

    return app


def _request_parameters() -> tuple[dict[str, Any], dict[str, Upload]]:
    """Query string merged with the body, whichever of JSON, form or multipart it is."""
    raw: dict[str, Any] = dict(request.args.items())
    files: dict[str, Upload] = {}
    if request.method == "POST":
        if request.is_json:
            data = request.get_data(cache=True)
            try:
                body = json.loads(data) if data.strip() else {}
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected in the request body")
            raw.update(body)
        else:
            raw.update(request.form.items())
            for name, storage in request.files.items():
                files[name] = Upload(
                    filename=storage.filename or "",
                    content_type=storage.mimetype or "",
                    data=storage.read(),
                )
    return raw, files


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _loggable(value: Any) -> Any:
    if isinstance(value, Upload):
        return {
            "file_name": value.filename,
            "mime_type": value.content_type,
            "size": len(value.data),
        }
    return value


def _log(
    state: SandboxState,
    method: str,
    params: dict[str, Any],
    ignored: list[str],
    status: int,
    error: str | None,
    started: float,
) -> None:
    state.log_call(
        {
            "method": method,
            "params": {key: _loggable(value) for key, value in params.items()},
            "ignored": ignored,
            "status": status,
            "error": error,
            "time": started,
            "duration": round(time.time() - started, 6),
        }
    )
