"""Control routes for what the 1C extension keeps in 1C (`http`/`soap` only), under `/_sandbox/`:
its settings' card fields, a user's read right on a document, a task held by another 1C session,
and the register of decisions from Telegram."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.onec.control_input import guid, json_body, listed, locked_document
from sandbox.onec.model import CardSettings
from sandbox.onec.state import current

blueprint = Blueprint("extension_control", __name__)


@blueprint.errorhandler(ValueError)
def _invalid(error: ValueError) -> tuple[Response, int]:
    return jsonify({"error": str(error)}), 400


@blueprint.errorhandler(LookupError)
def _missing(error: LookupError) -> tuple[Response, int]:
    return jsonify({"error": str(error)}), 404


@blueprint.put("/extension/cards/<set_name>")
def set_card(set_name: str) -> Response:
    """The card of a document type as the extension's settings list it:
    `{"fields": [attribute names], "tables": [tabular section names]}`; null fields: every one."""
    body = json_body()
    ib = current().infobase
    with ib.lock:
        if body.get("fields") is None:
            ib.card_settings.pop(set_name, None)
        else:
            ib.card_settings[set_name] = CardSettings(
                tuple(_names(body["fields"], "fields")),
                tuple(_names(body.get("tables", []), "tables")),
            )
    settings = {"fields": body.get("fields"), "tables": body.get("tables")}
    return jsonify({"set_name": set_name, **settings})


@blueprint.put("/documents/<document_id>/access")
def set_access(document_id: str) -> Response:
    """Users who may not read the document in 1C: `{"denied": [user ids]}` (empty: everyone may)."""
    body = json_body()
    with locked_document(document_id) as (ib, document):
        denied = {guid(user, "denied") for user in listed(body.get("denied"), "denied")}
        if denied:
            ib.read_denied[document.ref] = denied
        else:
            ib.read_denied.pop(document.ref, None)
    return jsonify({"document_id": document_id, "denied": sorted(str(u) for u in denied)})


@blueprint.put("/tasks/<task_id>/lock")
def set_lock(task_id: str) -> Response:
    """A 1C user holds the task (`{"locked": true}`): decisions on it answer 503 until released."""
    body = json_body()
    ib = current().infobase
    with ib.lock:
        ref = guid(task_id, "task_id")
        if ref not in ib.tasks:
            raise LookupError(f"no task {task_id}")
        if body.get("locked"):
            ib.locked_tasks.add(ref)
        else:
            ib.locked_tasks.discard(ref)
    return jsonify({"task_id": task_id, "locked": bool(body.get("locked"))})


@blueprint.get("/audit")
def audit() -> Response:
    """The register of decisions from Telegram, oldest first: `{"decisions": [...]}`."""
    ib = current().infobase
    with ib.lock:
        return jsonify({"decisions": list(ib.audit)})


def _names(value: Any, name: str) -> list[str]:
    names = listed(value, name)
    if not all(isinstance(item, str) and item for item in names):
        raise ValueError(f"{name} must be a list of names")
    return names
