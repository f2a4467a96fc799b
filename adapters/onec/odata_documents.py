"""How the OData connector shows a document: the profile's description where the infobase has
what it names, else one from `$metadata`; which properties to read; its fields and tables as the
card and the PDF show them, references by their catalog's `Description`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from adapters.onec import odata_values as v
from adapters.onec.generic_documents import document_spec
from adapters.onec.odata_schema import Schema
from adapters.onec.profile import Column, DocumentSpec, Profile
from gateway.domain.tasks import Field, Table

log = logging.getLogger(__name__)

NOT_DOCUMENTS: Final = ("BusinessProcess_", "Task_", "InformationRegister_")

FillNames = Callable[[str, set[str]], None]  # read the Descriptions of (catalog, keys) not known
NameOf = Callable[[str, str], str]  # (catalog, key) → Description, '' if unknown


class DocumentViews:
    """Document specs by entity set, and the card's fields and tables of a document row."""

    def __init__(self, profile: Profile, schema: Schema, fill: FillNames, name: NameOf) -> None:
        self._profile = profile
        self._schema = schema
        self._fill = fill
        self._name = name
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

    def prefetch(self, spec: DocumentSpec, documents: list[dict[str, Any]]) -> None:
        """Names of every reference the documents show, a batch per catalog (not one each)."""
        wanted: dict[str, set[str]] = {}
        for doc in documents:
            for column in spec.fields:
                if column.reference and (key := v.ref(doc.get(column_property(column)))):
                    wanted.setdefault(column.reference, set()).add(key)
            for table in spec.tables:
                for line in _lines(doc, table.property):
                    for column in table.columns:
                        if column.reference and (key := v.ref(line.get(column_property(column)))):
                            wanted.setdefault(column.reference, set()).add(key)
        for entity_set, keys in wanted.items():
            self._fill(entity_set, keys)

    def fields(self, spec: DocumentSpec, doc: dict[str, Any]) -> tuple[Field, ...]:
        """Number, date, then the spec's fields, as presentation strings."""
        zone = self._profile.server_timezone
        fields = [
            Field("Номер", str(doc.get("Number", "")).strip()),
            Field("Дата", v.text(doc.get("Date"), "date", zone)),
        ]
        for column in spec.fields:
            fields.append(Field(column.label, self._value(column, doc)))
        return tuple(fields)

    def tables(self, spec: DocumentSpec, doc: dict[str, Any]) -> tuple[Table, ...]:
        """The spec's tabular sections, rows in `LineNumber` order."""
        tables = []
        for table in spec.tables:
            lines = sorted(_lines(doc, table.property), key=_line_number)
            rows = tuple(
                (str(_line_number(line)), *(self._value(c, line) for c in table.columns))
                for line in lines
            )
            columns = ("№", *(c.label for c in table.columns))
            tables.append(Table(table.label, columns, rows))
        return tuple(tables)

    def _value(self, column: Column, values: dict[str, Any]) -> str:
        raw = values.get(column_property(column))
        if column.reference:
            key = v.ref(raw)
            if key is None:
                return ""
            self._fill(column.reference, {key})
            return self._name(column.reference, key)
        return v.text(raw, column.format, self._profile.server_timezone)


def _line_number(line: dict[str, Any]) -> int:
    return as_int(line.get("LineNumber"))


def _lines(doc: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [line for line in doc.get(table) or [] if isinstance(line, dict)]


def column_property(column: Column) -> str:
    """The OData property of a column: single-type references are `<Имя>_Key`."""
    return f"{column.property}_Key" if column.reference else column.property


def as_int(value: Any) -> int:
    """1C sends `LineNumber` as a string; numbers may come as either."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
