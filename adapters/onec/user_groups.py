"""Members of a 1C users group (`Catalog_ГруппыПользователей` and its table `Состав`), over OData.

ONEC_USERS_GROUP and ONEC_ADMINS_GROUP name such groups (design 3). Every connector reads them
through the standard OData interface of the same publication: contract v1 has no route for
groups, and the OData read is one request whatever the group's size.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

from adapters.onec import odata_values as v
from adapters.onec.odata_errors import odata_error
from adapters.onec.profile import Addressing
from adapters.onec.session import UPSTREAM, OneCSession
from gateway.errors import MalformedAnswer, NotFound

ODATA_ROOT: Final = "/odata/standard.odata"


def string_literal(text: str) -> str:
    """An OData string literal: single quotes, a quote inside doubled."""
    return "'" + text.replace("'", "''") + "'"


def read_group_members(
    session: OneCSession, base_url: str, name: str, addressing: Addressing | None = None
) -> frozenset[str]:
    """The 1C user ids in the group's `Состав`; NotFound naming the group if 1C has none such.

    A group marked for deletion counts as absent: 1C keeps it only until the deletion is run.
    """
    a = addressing or Addressing()
    url = f"{base_url.rstrip('/')}{ODATA_ROOT}/{quote(a.user_groups)}"
    params = {
        "$format": "json",
        "$filter": f"Description eq {string_literal(name)} and DeletionMark eq false",
        "$select": f"Ref_Key,{a.group_members}",
    }
    answer = session.request("GET", url, params=params)
    if answer.status != 200:
        raise odata_error(answer)
    body: Any = answer.json()
    rows = body.get("value") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise MalformedAnswer(UPSTREAM, f"{a.user_groups}: answer without a `value` list of rows")
    if not rows:
        raise NotFound(UPSTREAM, "not_found", f"1C has no users group {name!r} ({a.user_groups})")
    members: set[str] = set()
    for row in rows:
        lines = row.get(a.group_members) if isinstance(row, dict) else None
        for line in lines or []:
            key = v.ref(line.get(a.group_member)) if isinstance(line, dict) else None
            if key:
                members.add(key)
    return frozenset(members)
