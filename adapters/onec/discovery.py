"""What `onec discover` asks 1C besides `$metadata`: which business processes and document types
the pending tasks belong to, so an administrator can fill ONEC_APPROVAL_PROCESSES and a profile.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Final

from adapters.onec import odata_values as v
from adapters.onec.generic_documents import document_spec, profile_toml
from adapters.onec.metadata import EntitySet
from adapters.onec.odata_collection import read_rows
from adapters.onec.profile import BUILTIN_DIR, Profile
from adapters.onec.session import OneCSession

PAGE: Final = 5000
HEADER: Final = (
    "# A starting profile written by `python -m gateway onec discover --profile`: the БСП\n"
    "# task model, then the document types of pending tasks as $metadata describes them.\n"
    "# Check the labels, leave out what approvers need not see, set ONEC_PROFILE to this file.\n"
)


@dataclass(frozen=True, slots=True)
class PendingTypes:
    """Pending tasks counted by business process type and by document (subject) type."""

    processes: Counter[str]
    documents: Counter[str]


def pending_types(session: OneCSession, base_url: str, profile: Profile) -> PendingTypes:
    """Count pending tasks by `BusinessProcess_Type` and `Предмет_Type`, reading only those."""
    f = profile.task_fields
    process, subject = f["business_process"], f["subject"]
    processes: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    skip = 0
    while True:
        params: dict[str, object] = {
            "$filter": profile.pending_filter,
            "$select": ",".join((process, f"{process}_Type", subject, f"{subject}_Type")),
            "$orderby": profile.order_by,
            "$top": PAGE,
            "$skip": skip,
        }
        rows = read_rows(session, base_url, profile.task_set, params)
        for row in rows:
            found = v.composite(row, process)
            processes[found[0] if found else ""] += 1
            if document := v.composite(row, subject):
                documents[document[0]] += 1
        if len(rows) < PAGE:
            return PendingTypes(processes, documents)
        skip += PAGE


def starting_profile(sets: list[EntitySet], document_types: list[str]) -> str:
    """A complete profile: the `bsp` task model, then every given document type from
    `$metadata` (all `Document_*` sets when none is given)."""
    by_name = {s.name: s for s in sets}
    row_sets = {f"{s.name}_{t.name}" for s in sets for t in s.tables}
    wanted = [by_name[name] for name in document_types if name in by_name] or [
        s for s in sets if s.name.startswith("Document_") and s.name not in row_sets
    ]
    base = (BUILTIN_DIR / "bsp.toml").read_text(encoding="utf-8")
    task_model = base.split('\nname = "bsp"\n', 1)[1].split("\n[documents.", 1)[0].rstrip()
    specs = [document_spec(s, by_name) for s in wanted]
    return f'{HEADER}name = "custom"\n{task_model}\n\n{profile_toml(specs)}'
