"""One read of an OData collection outside the connector: the standard interface's root, a
string literal, and the `value` rows of an answer, refused when they are not rows.

`onec discover` and the users-group read talk to the same publication as the connector but
need none of its caches; they share this.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

from adapters.onec.odata_errors import odata_error
from adapters.onec.session import UPSTREAM, OneCSession
from gateway.errors import MalformedAnswer

ODATA_ROOT: Final = "/odata/standard.odata"


def string_literal(text: str) -> str:
    """An OData string literal: single quotes, a quote inside doubled."""
    return "'" + text.replace("'", "''") + "'"


def read_rows(
    session: OneCSession, base_url: str, entity_set: str, params: dict[str, object]
) -> list[dict[str, Any]]:
    """The rows of one GET of `entity_set` (JSON); OData errors and odd answers translated."""
    url = f"{base_url.rstrip('/')}{ODATA_ROOT}/{quote(entity_set)}"
    answer = session.request("GET", url, params={"$format": "json", **params})
    if answer.status != 200:
        raise odata_error(answer)
    body: Any = answer.json()
    rows = body.get("value") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise MalformedAnswer(UPSTREAM, f"{entity_set}: answer without a `value` list of rows")
    return rows
