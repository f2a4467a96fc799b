"""Members of a 1C users group (`Catalog_ГруппыПользователей` and its table `Состав`), over OData.

ONEC_USERS_GROUP and ONEC_ADMINS_GROUP name such groups (design 3). Every connector reads them
through the standard OData interface of the same publication: contract v1 has no route for
groups, and the OData read is one request whatever the group's size.
"""

from __future__ import annotations

from adapters.onec import odata_values as v
from adapters.onec.odata_collection import read_rows, string_literal
from adapters.onec.profile import Addressing
from adapters.onec.session import UPSTREAM, OneCSession
from gateway.errors import NotFound


def read_group_members(
    session: OneCSession, base_url: str, name: str, addressing: Addressing | None = None
) -> frozenset[str]:
    """The 1C user ids in the group's `Состав`; NotFound naming the group if 1C has none such.

    A group marked for deletion counts as absent: 1C keeps it only until the deletion is run.
    """
    a = addressing or Addressing()
    rows = read_rows(
        session,
        base_url,
        a.user_groups,
        {
            "$filter": f"Description eq {string_literal(name)} and DeletionMark eq false",
            "$select": f"Ref_Key,{a.group_members}",
        },
    )
    if not rows:
        raise NotFound(UPSTREAM, "not_found", f"1C has no users group {name!r} ({a.user_groups})")
    members: set[str] = set()
    for row in rows:
        lines = row.get(a.group_members)
        for line in lines or []:
            key = v.ref(line.get(a.group_member)) if isinstance(line, dict) else None
            if key:
                members.add(key)
    return frozenset(members)
