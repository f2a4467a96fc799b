"""The control API under `/_sandbox/`: act as users, read chats, files and logs, set limits."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.telegram.flood import MODES
from sandbox.telegram.state import Chat, ControlError, SandboxState


def control_api(state: SandboxState) -> Blueprint:
    """The `/_sandbox/` routes over one SandboxState."""
    api = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

    @api.errorhandler(ControlError)
    def control_error(exc: ControlError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), exc.status

    @api.post("/users")
    def create_user() -> tuple[Response, int]:
        return jsonify(state.add_user(_body())), 201

    @api.get("/users")
    def list_users() -> Response:
        with state.lock:
            users = [{**u, "phone": state.phones.get(u["id"])} for u in state.users.values()]
        return jsonify({"users": users})

    @api.post("/users/<int:user_id>/send")
    def send(user_id: int) -> Response:
        return jsonify(state.user_sends(user_id, _body()))

    @api.post("/users/<int:user_id>/start")
    def start(user_id: int) -> Response:
        payload = str(_body().get("payload") or "").strip()
        return jsonify(state.user_sends(user_id, {"text": f"/start {payload}".strip()}))

    @api.post("/users/<int:user_id>/press")
    def press(user_id: int) -> Response:
        body = _body()
        button = body.get("button")
        if not isinstance(button, str):
            raise ControlError(400, "button (its visible text) is required")
        message_id = body.get("message_id")
        if message_id is not None and not isinstance(message_id, int):
            raise ControlError(400, "message_id must be an integer")
        data = body.get("data")
        if data is not None and not isinstance(data, str):
            raise ControlError(400, "data must be a string")
        return jsonify(state.user_presses(user_id, message_id, button, data))

    @api.post("/users/<int:user_id>/block")
    def block(user_id: int) -> Response:
        return jsonify(state.set_blocked(user_id, True))

    @api.post("/users/<int:user_id>/unblock")
    def unblock(user_id: int) -> Response:
        return jsonify(state.set_blocked(user_id, False))

    def known_chat(chat_id: int) -> Chat:
        """The chat with this id (the state's lock held); 404 when there is none."""
        found = state.chats.get(chat_id)
        if found is None:
            raise ControlError(404, f"chat {chat_id} not found")
        return found

    @api.get("/chats/<int:chat_id>")
    def chat(chat_id: int) -> Response:
        with state.lock:
            found = known_chat(chat_id)
            messages = copy.deepcopy(sorted(found.messages.values(), key=_message_order))
        return jsonify({"messages": messages})

    @api.get("/chats/<int:chat_id>/keyboard")
    def keyboard(chat_id: int) -> Response:
        with state.lock:
            found = known_chat(chat_id)
            return jsonify(
                {
                    "reply_keyboard": found.reply_keyboard,
                    "force_reply": found.force_reply,
                    "last_action": found.last_action,
                    "blocked": found.blocked,
                }
            )

    @api.get("/files/<file_id>")
    def file(file_id: str) -> Response:
        with state.lock:
            stored = state.files.get(file_id)
        if stored is None:
            raise ControlError(404, f"file {file_id} not found")
        response = Response(stored.data, mimetype=stored.mime_type)
        response.headers["X-File-Name"] = stored.file_name.encode("utf-8").decode("latin-1")
        return response

    @api.get("/calls")
    def calls() -> Response:
        method = request.args.get("method")
        with state.lock:
            listed = [c for c in state.calls if method is None or c["method"] == method]
            return jsonify({"calls": copy.deepcopy(listed)})

    @api.get("/callback_answers")
    def callback_answers() -> Response:
        with state.lock:
            answers = [
                {
                    "callback_query_id": q.id,
                    "user_id": q.user_id,
                    "message_id": q.message_id,
                    "data": q.data,
                    "answer": q.answer,
                }
                for q in state.callback_queries.values()
            ]
        return jsonify({"callback_answers": answers})

    @api.get("/updates")
    def updates() -> Response:
        with state.lock:
            return jsonify({"updates": copy.deepcopy(state.updates)})

    @api.get("/flood")
    def get_flood() -> Response:
        return jsonify(_flood(state))

    @api.post("/flood")
    def set_flood() -> Response:
        body = _body()
        limits = {}
        for key in ("global_per_second", "chat_per_second"):
            value = body.get(key, getattr(state.flood, key))
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ControlError(400, f"{key} must be a number ≥ 0 (0 turns it off)")
            limits[key] = value
        mode = body.get("mode", state.flood.mode)
        if mode not in MODES:
            raise ControlError(400, f"mode must be one of: {', '.join(MODES)}")
        state.flood.set_limits(limits["global_per_second"], limits["chat_per_second"], mode)
        return jsonify(_flood(state))

    @api.get("/latency")
    def get_latency() -> Response:
        return jsonify({"seconds": state.latency})

    @api.post("/latency")
    def set_latency() -> Response:
        value = _body().get("seconds")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
            raise ControlError(400, "seconds must be a number from 0 to 10")
        state.latency = float(value)
        return jsonify({"seconds": state.latency})

    @api.post("/reset")
    def reset() -> Response:
        state.reset()
        return jsonify({"ok": True})

    return api


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _message_order(message: dict[str, Any]) -> int:
    return int(message["message_id"])


def _flood(state: SandboxState) -> dict[str, float | str]:
    return {
        "global_per_second": state.flood.global_per_second,
        "chat_per_second": state.flood.chat_per_second,
        "mode": state.flood.mode,
    }
