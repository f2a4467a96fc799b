"""The control API's JSON input read one way for every control blueprint: a malformed value is a
ValueError naming the field, which the blueprints answer with 400."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import request

from sandbox.onec.model import Document, Infobase
from sandbox.onec.state import current


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; `optional`: an absent or unreadable body is an empty one."""
    body = request.get_json(silent=True)
    if body is None and optional:
        return {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def guid(value: Any, name: str) -> uuid.UUID:
    """`value` as a GUID; `name` says which field held it."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{name}: not a GUID: {value!r}") from None


def listed(value: Any, name: str, *, non_empty: bool = False) -> list[Any]:
    """`value`, which must be a list (with an item, when `non_empty`)."""
    if not isinstance(value, list) or (non_empty and not value):
        raise ValueError(f"{name} must be a {'non-empty ' if non_empty else ''}list")
    return value


def required_name(body: dict[str, Any]) -> str:
    """The body's `name`, stripped; it must not be empty."""
    name = str(body.get("name") or "").strip()
    if not name:
        raise ValueError("name is required")
    return name


@contextmanager
def locked_document(document_id: str) -> Iterator[tuple[Infobase, Document]]:
    """The infobase, locked, and the document a route's path names; LookupError, answered 404,
    when there is none."""
    ib = current().infobase
    with ib.lock:
        document = ib.find_document(guid(document_id, "document_id"))
        if document is None:
            raise LookupError(f"no document {document_id}")
        yield ib, document
