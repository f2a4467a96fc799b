"""The control API under `/_sandbox/` (no auth): act "in 1C", inject faults, read the log, reset."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.onec import addressing, routing, seed
from sandbox.onec.control_input import (
    guid,
    json_body,
    listed,
    locked_document,
    required_name,
)
from sandbox.onec.documents import presentation
from sandbox.onec.faults import MODES
from sandbox.onec.model import (
    EMPTY_REF,
    ROLES,
    USER_GROUPS,
    USERS,
    Approval,
    CatalogItem,
    Composite,
    Infobase,
    Task,
    task_state,
)
from sandbox.onec.routing import REWORK_STAGE_NAME
from sandbox.onec.state import current
from sandbox.onec.task_view import rfc3339, task_json

blueprint = Blueprint("control", __name__)


class _NotFound(LookupError):
    pass


@blueprint.errorhandler(ValueError)
def _invalid(error: ValueError) -> tuple[Response, int]:
    return jsonify({"error": "invalid", "message": str(error)}), 400


@blueprint.errorhandler(LookupError)
def _missing(error: LookupError) -> tuple[Response, int]:
    return jsonify({"error": "not_found", "message": str(error)}), 404


@blueprint.get("/infobase")
def infobase() -> Response:
    """Which infobase this emulator serves: its seed, title and publication root."""
    config = current().config
    return jsonify(
        {
            "seed": config.seed,
            "title": config.title or seed.SEEDS[config.seed].title,
            "base": config.base,
        }
    )


@blueprint.get("/users")
def users() -> Response:
    """The seeded 1C users with logins and phones (`+` and digits)."""
    return _catalog_json(USERS, "users", _user_details)


def _user_details(_: Infobase, user: CatalogItem) -> dict[str, Any]:
    phones = user.tables.get("КонтактнаяИнформация", [])
    return {
        "login": user.login,
        "phones": ["+" + seed.phone_digits(r["НомерТелефона"]) for r in phones],
        "invalid": bool(user.attrs.get("Недействителен")),
        "deletion_mark": user.deletion_mark,
    }


@blueprint.post("/users")
def create_user() -> tuple[Response, int]:
    """A new 1C user: `{"name", "phones": [...], "login"?, "invalid"?}` → `{"id"}`."""
    body = _dict(request.get_json(silent=True) or {})
    name = str(body.get("name") or "").strip()
    if not name:
        raise ValueError("name is required")
    phones = [str(p) for p in listed(body.get("phones", []), "phones", non_empty=True)]
    login = str(body.get("login") or name.split()[0])
    user = seed.SeedUser(
        key=f"created:{login}:{name}",
        login=login,
        name=name,
        phones=tuple(phones),
        invalid=bool(body.get("invalid", False)),
    )
    ib = current().infobase
    with ib.lock:
        if user.ref in ib.catalog(USERS):
            raise ValueError(f"user {name!r} with login {login!r} exists")
        seed.add_user(ib, user)
    return jsonify({"id": str(user.ref)}), 201


@blueprint.patch("/users/<user_id>")
def edit_user(user_id: str) -> Response:
    """Change a user card as a 1C administrator would: `{"phones"?, "invalid"?, "name"?}`."""
    body = _dict(request.get_json(silent=True) or {})
    ib = current().infobase
    with ib.lock:
        item = ib.catalog(USERS).get(guid(user_id, "user_id"))
        if item is None:
            raise LookupError(f"no user {user_id}")
        if "phones" in body:
            phones = [str(p) for p in listed(body["phones"], "phones", non_empty=True)]
            item.tables["КонтактнаяИнформация"] = seed.phone_rows(phones)
        if "invalid" in body:
            item.attrs["Недействителен"] = bool(body["invalid"])
        if "name" in body:
            item.description = str(body["name"])
        ib.touch(item)
    return jsonify({"id": str(item.ref)})


@blueprint.post("/approvals")
def start_approval() -> Response:
    """Create a document and start its approval (design 8: type, fields, route, initiator)."""
    body = json_body()
    ib = current().infobase
    route = [
        _performer(item, "route") for item in listed(body.get("route"), "route", non_empty=True)
    ]
    initiator = guid(body.get("initiator"), "initiator")
    task_ref = guid(body["task_id"], "task_id") if body.get("task_id") else None
    with ib.lock:
        if ib.user(initiator) is None:
            raise ValueError(f"unknown initiator {initiator}")
        document = routing.create_document(
            ib, str(body.get("document_type", "")), _dict(body.get("fields", {})), initiator
        )
        approval, task = routing.start_approval(
            ib,
            document,
            route,
            initiator,
            stage_names=body.get("stage_names"),
            importance=str(body.get("importance", "Обычная")),
            due_days=body.get("due_days", 3),
            task_ref=task_ref,
        )
    return jsonify(
        {
            "document_id": str(document.ref),
            "task_id": str(task.ref),
            "approval_id": str(approval.ref),
        }
    )


@blueprint.post("/assignments")
def start_assignment() -> Response:
    """A БСП `Задание` (not an approval): `{"title", "performer": user id or {"role"}, ...}`."""
    body = json_body()
    ib = current().infobase
    performer = _performer(body.get("performer"), "performer")
    with ib.lock:
        document = None
        if body.get("document_id"):
            document = ib.find_document(guid(body["document_id"], "document_id"))
            if document is None:
                raise ValueError(f"unknown document {body['document_id']}")
        chosen = seed.SEEDS[current().config.seed]
        author = guid(body["author"], "author") if body.get("author") else chosen.ref(chosen.admin)
        process, task = routing.start_assignment(
            ib, str(body.get("title") or ""), performer, author, document
        )
    return jsonify({"task_id": str(task.ref), "process_id": str(process.ref)})


@blueprint.post("/processes/<process_id>/stop")
def stop_process(process_id: str) -> Response:
    """Stop a process as БСП does: its open tasks get СостояниеБизнесПроцесса Остановлен."""
    ib = current().infobase
    with ib.lock:
        process = ib.approvals.get(guid(process_id, "process_id"))
        if process is None:
            raise _NotFound(f"no business process {process_id}")
        try:
            stopped = routing.stop_process(ib, process)
        except routing.RouteError as exc:
            return _conflict(str(exc))
    return jsonify({"process_id": process_id, "stopped_tasks": [str(t.ref) for t in stopped]})


@blueprint.post("/roles")
def create_role() -> tuple[Response, int]:
    """A performer role and its register records: `{"name", "performers": [{"user", ...}]}`."""
    body = json_body()
    name = required_name(body)
    ib = current().infobase
    with ib.lock:
        performers = _role_performers(ib, body.get("performers", []))
        role = addressing.create_role(ib, name)
        _replace_performers(ib, role.ref, performers)
    return jsonify({"id": str(role.ref)}), 201


@blueprint.put("/roles/<role_id>/performers")
def set_role_performers(role_id: str) -> Response:
    """Replace a role's register records; tasks whose candidates changed are reported updated."""
    body = json_body()
    ib = current().infobase
    with ib.lock:
        performers = _role_performers(ib, body.get("performers"))
        changed = _replace_performers(ib, guid(role_id, "role_id"), performers)
    return jsonify({"id": role_id, "updated_tasks": [str(t.ref) for t in changed]})


@blueprint.get("/roles")
def roles() -> Response:
    """Roles with their register records: `{"roles": [{"id", "name", "performers"}]}`."""
    return _catalog_json(ROLES, "roles", _role_details)


def _role_details(ib: Infobase, role: CatalogItem) -> dict[str, Any]:
    records = [r for r in ib.performers if r.role == role.ref]
    return {
        "performers": [
            {
                "user": str(r.user),
                "name": ib.user_name(r.user),
                "organization": addressing_name(ib, r.main),
            }
            for r in records
        ]
    }


@blueprint.post("/user-groups")
def create_user_group() -> tuple[Response, int]:
    """A users group (`Catalog_ГруппыПользователей`): `{"name", "members": [user ids]}`."""
    body = json_body()
    name = required_name(body)
    members = [guid(user, "members") for user in body.get("members", [])]
    group = addressing.create_user_group(current().infobase, name, members)
    return jsonify({"id": str(group.ref)}), 201


@blueprint.put("/user-groups/<group_id>/members")
def set_user_group_members(group_id: str) -> Response:
    """Replace a users group's `Состав`: `{"members": [user ids]}` (may be empty)."""
    body = json_body()
    members = listed(body.get("members"), "members")
    ib = current().infobase
    with ib.lock:
        group = ib.catalog(USER_GROUPS).get(guid(group_id, "group_id"))
        if group is None:
            raise _NotFound(f"no users group {group_id}")
        addressing.set_members(ib, group, [guid(user, "members") for user in members])
    return jsonify({"id": group_id, "version": group.data_version})


@blueprint.get("/user-groups")
def user_groups() -> Response:
    """Users groups with their members: `{"groups": [{"id", "name", "members": [ids]}]}`."""
    return _catalog_json(USER_GROUPS, "groups", _group_details)


def _group_details(_: Infobase, group: CatalogItem) -> dict[str, Any]:
    return {"members": [str(r["Пользователь_Key"]) for r in group.tables.get("Состав", [])]}


@blueprint.put("/documents/<document_id>/refusal")
def set_refusal(document_id: str) -> Response:
    """Make executing the document's tasks fail with 1C's text: `{"message"}` (null: allow)."""
    body = json_body()
    with locked_document(document_id) as (ib, document):
        message = body.get("message")
        if message is None:
            ib.refusals.pop(document.ref, None)
        else:
            ib.refusals[document.ref] = str(message)
    return jsonify({"document_id": document_id, "message": message})


@blueprint.get("/approvals")
def approvals() -> Response:
    """Every approval with its route, current stage, state and tasks (the demo's "1C side")."""
    ib = current().infobase
    with ib.lock:
        by_approval: dict[uuid.UUID, list[Task]] = {}
        for each in ib.tasks.values():
            by_approval.setdefault(each.approval, []).append(each)
        found = [approval_json(ib, a, by_approval.get(a.ref, [])) for a in ib.approvals.values()]
    return jsonify({"approvals": found})


@blueprint.get("/approvals/<document_id>")
def approvals_of(document_id: str) -> Response:
    """The approvals of one document."""
    ib = current().infobase
    ref = guid(document_id, "document_id")
    with ib.lock:
        found = [
            approval_json(ib, a, [t for t in ib.tasks.values() if t.approval == a.ref])
            for a in ib.approvals.values()
            if a.subject.ref == ref
        ]
    if not found:
        raise _NotFound(f"no approval of document {document_id}")
    return jsonify({"approvals": found})


@blueprint.post("/approvals/<document_id>/cancel")
def cancel(document_id: str) -> Response:
    """Cancel the document's running approval: open tasks get DeletionMark, the process stops."""
    cancelled = routing.cancel_approval(current().infobase, guid(document_id, "document_id"))
    return jsonify({"document_id": document_id, "cancelled_tasks": [str(t.ref) for t in cancelled]})


@blueprint.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """A task in the contract's shape."""
    ib = current().infobase
    found = ib.tasks.get(guid(task_id, "task_id"))
    if found is None:
        raise _NotFound(f"no task {task_id}")
    return jsonify(task_json(ib, found))


@blueprint.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> Response:
    """Complete a task "in 1C" (default: approve), as its performer would in the 1C client."""
    body = json_body(optional=True)
    ib = current().infobase
    with ib.lock:
        found = ib.tasks.get(guid(task_id, "task_id"))
        if found is None:
            raise _NotFound(f"no task {task_id}")
        decision = str(body.get("decision", "approve"))
        if decision not in routing.DECISION_CODES:
            raise ValueError(f"decision must be one of {', '.join(routing.DECISION_CODES)}")
        try:
            following = routing.execute_task(
                ib, found, decision, str(body.get("comment", "Выполнено в 1С"))
            )
        except routing.RouteError as exc:
            return _conflict(str(exc))
        return jsonify(
            {
                "task": task_json(ib, found),
                "next_task_id": str(following.ref) if following else None,
            }
        )


@blueprint.post("/documents")
def create_document() -> Response:
    """A document without an approval: `{"document_type", "fields", "author"}`."""
    body = json_body()
    ib = current().infobase
    author = guid(body["author"], "author") if body.get("author") else None
    document = routing.create_document(
        ib, str(body.get("document_type", "")), _dict(body.get("fields", {})), author
    )
    return jsonify({"document_id": str(document.ref), "version": document.data_version})


@blueprint.patch("/documents/<document_id>")
def edit_document(document_id: str) -> Response:
    """A new version of a document: `{"fields": {...}}`; its open tasks are reported updated."""
    body = json_body()
    with locked_document(document_id) as (ib, document):
        routing.edit_document(ib, document, _dict(body.get("fields", {})))
        return jsonify({"document_id": document_id, "version": document.data_version})


@blueprint.post("/faults")
def set_fault() -> Response:
    """`{"mode": none|down|slow|error500|html_login|truncated, "seconds", "duration"}`."""
    body = json_body()
    mode = body.get("mode")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    fault = current().faults.set(
        str(mode), _seconds(body.get("seconds")), _seconds(body.get("duration"))
    )
    return jsonify(fault.as_json())


@blueprint.get("/faults")
def get_fault() -> Response:
    """The fault in force."""
    return jsonify(current().faults.current().as_json())


@blueprint.get("/requests")
def request_log() -> Response:
    """Requests to the 1C routes: method, path, query, status (null: dropped), user, fault."""
    return jsonify({"requests": current().log.entries()})


@blueprint.delete("/requests")
def clear_request_log() -> Response:
    """Forget the request log."""
    current().log.clear()
    return jsonify({"requests": []})


@blueprint.post("/reset")
def reset() -> Response:
    """Reseed the infobase, clear faults, idempotency keys and the request log."""
    sandbox = current()
    seed.reseed(sandbox)
    body = json_body(optional=True)
    if body.get("bulk"):
        seed.bulk(sandbox.infobase, _count(body["bulk"]), kind=sandbox.config.seed)
    sandbox.faults.set("none")
    sandbox.log.clear()
    return jsonify({"tasks": len(sandbox.infobase.tasks), "epoch": sandbox.infobase.epoch})


@blueprint.post("/bulk")
def bulk() -> Response:
    """Add `count` one-stage approvals pending on `performer` (default Морозов) or `role`."""
    body = json_body()
    ib = current().infobase
    performer = guid(body["performer"], "performer") if body.get("performer") else None
    role = guid(body["role"], "role") if body.get("role") else None
    with ib.lock:
        if role is not None and role not in ib.catalog(ROLES):
            raise ValueError(f"unknown role {role}")
        created = seed.bulk(ib, _count(body.get("count")), performer, role, current().config.seed)
    return jsonify({"created": created, "tasks": len(ib.tasks)})


def approval_json(ib: Infobase, approval: Approval, tasks: list[Task]) -> dict[str, Any]:
    """An approval with its route, stage, state and tasks (oldest first)."""
    document = ib.find_document(approval.subject.ref)
    stage = approval.current_stage
    return {
        "id": str(approval.ref),
        "number": approval.number,
        "process": approval.set_name,
        "title": approval.title or f"Согласование {approval.number}",
        "state": approval.state,
        "document": {
            "id": str(approval.subject.ref),
            "type": approval.subject.set_name,
            "presentation": presentation(document) if document else "",
            "version": document.data_version if document else "",
        },
        "initiator": {"id": str(approval.initiator), "name": ib.user_name(approval.initiator)},
        "stage": {
            "number": stage,
            "count": len(approval.route),
            "name": REWORK_STAGE_NAME if stage == 0 else approval.route[stage - 1].name,
        },
        "route": [
            {
                "number": s.number,
                "name": s.name,
                "performer": {"id": str(s.performer), "name": ib.user_name(s.performer)},
                "role": _role_json(ib, s.role),
            }
            for s in approval.route
        ],
        "tasks": [
            {
                "id": str(t.ref),
                "number": t.number,
                "stage": t.stage_number,
                "performer": {"id": str(t.performer), "name": ib.user_name(t.performer)},
                "role": _role_json(ib, t.role),
                "candidates": [
                    {"id": str(u), "name": ib.user_name(u)} for u in addressing.candidates(ib, t)
                ],
                "state": task_state(t, approval),
                "decision": t.decision,
                "comment": t.result_text,
                "created_at": rfc3339(t.date),
            }
            for t in tasks
        ],
    }


def addressing_name(ib: Infobase, value: Composite) -> str | None:
    """The organization a register record names, None for none."""
    if value.ref == EMPTY_REF:
        return None
    item = ib.catalog(value.set_name).get(value.ref)
    return item.description if item else str(value.ref)


def _role_json(ib: Infobase, role: uuid.UUID) -> dict[str, str] | None:
    if role == EMPTY_REF:
        return None
    return {"id": str(role), "name": addressing.role_name(ib, role)}


def _performer(value: Any, name: str) -> routing.Performer:
    """A route item: a user GUID or `{"role": role GUID}`."""
    if isinstance(value, dict):
        if set(value) != {"role"}:
            raise ValueError(f'{name}: an item is a user id or {{"role": id}}')
        return routing.RoleRoute(guid(value["role"], name))
    return guid(value, name)


def _role_performers(ib: Infobase, value: Any) -> list[tuple[uuid.UUID, Composite]]:
    if not isinstance(value, list):
        raise ValueError("performers must be a list")
    performers = []
    for item in value:
        if not isinstance(item, dict) or "user" not in item:
            raise ValueError('performers: each item is {"user": id, "organization": name or null}')
        organization = item.get("organization")
        main = addressing.organization(ib, None if organization is None else str(organization))
        performers.append((guid(item["user"], "performers"), main))
    return performers


def _replace_performers(
    ib: Infobase, role: uuid.UUID, performers: list[tuple[uuid.UUID, Composite]]
) -> list[Task]:
    changed = addressing.set_performers(ib, role, performers)
    for task in changed:
        ib.emit("updated", task)
    return changed


def _catalog_json(
    set_name: str, key: str, details: Callable[[Infobase, CatalogItem], dict[str, Any]]
) -> Response:
    """`{key: [{"id", "name", **details}]}` for every element of a catalog."""
    ib = current().infobase
    with ib.lock:
        found = [
            {"id": str(item.ref), "name": item.description, **details(ib, item)}
            for item in ib.catalog(set_name).values()
        ]
    return jsonify({key: found})


def _conflict(message: str) -> Response:
    response = jsonify({"error": "conflict", "message": message})
    response.status_code = 409
    return response


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("fields must be an object")
    return value


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("seconds must be a number")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
        raise ValueError("count must be an integer from 1 to 100000")
    return value
