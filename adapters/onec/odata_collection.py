"""One read of an OData collection outside the connector: a string literal, and the `value`
rows of one GET, through the same transport as the connector.

`onec discover` and the users-group read talk to the same publication as the connector but
need none of its caches; they share this.
"""

from __future__ import annotations

from typing import Any

from adapters.onec.odata_transport import ODATA_ROOT, ODataTransport
from adapters.onec.session import OneCSession

__all__ = ["ODATA_ROOT", "read_rows", "string_literal"]


def string_literal(text: str) -> str:
    """An OData string literal: single quotes, a quote inside doubled."""
    return "'" + text.replace("'", "''") + "'"


def read_rows(
    session: OneCSession, base_url: str, entity_set: str, params: dict[str, object]
) -> list[dict[str, Any]]:
    """The rows of one GET of `entity_set` (JSON); OData errors and odd answers translated."""
    return ODataTransport(session, base_url).rows(entity_set, params)
