"""The gateway's HTTP service, contract v1 (`<base>/hs/approvals/v1/`), checked by openapi.yaml."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from sandbox.onec import contract, service
from sandbox.onec.service import ContractError
from sandbox.onec.state import current

blueprint = Blueprint("http_service", __name__)


@blueprint.errorhandler(ContractError)
def _contract_error(error: ContractError) -> Response:
    return _json(error.body(), error.status)


@blueprint.errorhandler(contract.InvalidParameter)
def _invalid_parameter(error: contract.InvalidParameter) -> Response:
    return _json({"error": "invalid", "message": str(error)}, 400)


@blueprint.errorhandler(404)
def _unknown_route(error: Exception) -> Response:
    return _json({"error": "not_found", "message": "no such resource"}, 404)


@blueprint.errorhandler(405)
def _wrong_method(error: Exception) -> Response:
    return _json({"error": "invalid", "message": "method not allowed"}, 405)


@blueprint.get("/tasks")
def list_tasks() -> Response:
    """Pending tasks, paged."""
    args = contract.query_parameters("/tasks", "get", request.args)
    return _json(service.list_tasks(current().infobase, args["limit"], args["page_token"]))


@blueprint.get("/tasks/<task_id>")
def get_task(task_id: str) -> Response:
    """A task in any state."""
    return _json(service.get_task(current().infobase, task_id))


@blueprint.get("/tasks/<task_id>/print")
def print_form(task_id: str) -> Response:
    """The subject's print form as PDF."""
    pdf = service.print_form(current(), task_id)
    return Response(
        pdf,
        200,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{task_id}.pdf"'},
    )


@blueprint.post("/tasks/<task_id>/decision")
def decision(task_id: str) -> Response:
    """Decide a task."""
    # A body that is not JSON is judged after the 404 check, as a 422 (design 5.4's order).
    body: Any = request.get_json(force=True, silent=True)
    return _json(service.submit_decision(current().infobase, task_id, body))


@blueprint.get("/events")
def events() -> Response:
    """The change feed."""
    args = contract.query_parameters("/events", "get", request.args)
    return _json(service.events(current().infobase, args["after"], args["limit"]))


@blueprint.get("/users")
def users() -> Response:
    """Users by phone."""
    args = contract.query_parameters("/users", "get", request.args)
    return _json(service.users_by_phone(current().infobase, args["phone"]))


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status, content_type="application/json; charset=utf-8"
    )
