"""Which documents the OData connector shows and how: the profile's description where the
infobase has what it names, else one from `$metadata`; and which properties to read. Turning a
document row into the card's fields and tables is the mapper's (`odata_mapping`).
"""

from __future__ import annotations

import logging
from typing import Final

from adapters.onec.generic_documents import document_spec
from adapters.onec.odata_schema import Schema
from adapters.onec.profile import Column, DocumentSpec, Profile

log = logging.getLogger(__name__)

NOT_DOCUMENTS: Final = ("BusinessProcess_", "Task_", "InformationRegister_")


class DocumentViews:
    """Document specs by entity set, resolved against the infobase once each."""

    def __init__(self, profile: Profile, schema: Schema) -> None:
        self._profile = profile
        self._schema = schema
        self._specs: dict[str, DocumentSpec | None] = {}

    def spec(self, entity_set: str) -> DocumentSpec | None:
        """How a document type is shown: the profile's description where the infobase has what
        it names, else every attribute and table `$metadata` gives; None: presentation only."""
        if entity_set in self._specs:
            return self._specs[entity_set]
        spec = self._profile.documents.get(entity_set)
        sets = self._schema.sets()
        if sets is None:
            return spec  # not kept: $metadata may be readable next time
        found = sets.get(entity_set)
        if spec is not None and found is not None and not self._describes(spec):
            log.warning(
                "profile %s: no field of %s exists in 1C; showing it from $metadata",
                self._profile.name,
                entity_set,
            )
            spec = None
        if spec is None and found is not None and not entity_set.startswith(NOT_DOCUMENTS):
            spec = document_spec(found, sets)
        self._specs[entity_set] = spec
        return spec

    def _describes(self, spec: DocumentSpec) -> bool:
        names = [column_property(c) for c in spec.fields] + [t.property for t in spec.tables]
        return any(self._schema.has(spec.entity_set, name) for name in names)

    @staticmethod
    def select_names(spec: DocumentSpec) -> list[str]:
        """The properties to read for a document of this spec."""
        names = ["Ref_Key", "DataVersion", "Number", "Date"]
        names += [column_property(c) for c in spec.fields]
        names += [t.property for t in spec.tables]
        return list(dict.fromkeys(names))


def column_property(column: Column) -> str:
    """The OData property of a column: single-type references are `<Имя>_Key`."""
    return f"{column.property}_Key" if column.reference else column.property
