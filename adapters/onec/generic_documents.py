"""How to show a document type the profile does not describe: its attributes and tabular
sections as `$metadata` gives them, references by their presentation, and the same as a starting
profile (`onec discover --profile`).

Composite-type attributes and references into sets 1C does not publish are left out: their
values are bare GUIDs, which say nothing to an approver.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from adapters.onec.metadata import KEY_SUFFIX, EntitySet, Property
from adapters.onec.profile import Column, DocumentSpec, TableSpec

# Standard attributes every document has; Number and Date are on every card already.
STANDARD: Final = frozenset(
    {"Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted", "LineNumber"}
)
_WORD_START: Final = re.compile(r"(?<=[а-яёa-z0-9])(?=[А-ЯЁA-Z])")


def label(name: str) -> str:
    """1C's identifier as words: `СуммаДокумента` → `Сумма документа`."""
    words = _WORD_START.split(name.removeprefix("Document_").replace("_", " "))
    if not words:
        return name
    return " ".join([words[0], *(w.lower() if not w.isupper() else w for w in words[1:])])


def _format(prop: Property) -> str:
    if prop.type == "Edm.DateTime":
        return "date"
    if prop.type == "Edm.Boolean":
        return "boolean"
    if prop.type in ("Edm.Double", "Edm.Decimal", "Edm.Int16", "Edm.Int32", "Edm.Int64"):
        return "money" if "Сумма" in prop.name else "number"
    return "text"


def _column(prop: Property, references: Mapping[str, str]) -> Column | None:
    if prop.name in STANDARD or prop.composite:
        return None
    if prop.type == "Edm.Guid":
        name = prop.name.removesuffix(KEY_SUFFIX)
        target = references.get(name)
        if not prop.name.endswith(KEY_SUFFIX) or not target:
            return None
        return Column(label(name), name, reference=target)
    return Column(label(prop.name), prop.name, _format(prop))


def document_spec(entity_set: EntitySet, sets: Mapping[str, EntitySet]) -> DocumentSpec:
    """A spec showing every attribute and tabular section of the set that reads as text."""
    references = dict(entity_set.references)
    fields = [c for p in entity_set.properties if (c := _column(p, references)) is not None]
    tables = []
    for table in entity_set.tables:
        # A tabular section's references are navigations of its own set, `<Owner>_<Table>`.
        row_set = sets.get(f"{entity_set.name}_{table.name}")
        row_references = dict(row_set.references) if row_set else {}
        columns = [c for p in table.columns if (c := _column(p, row_references)) is not None]
        if columns:
            tables.append(TableSpec(label(table.name), table.name, tuple(columns)))
    return DocumentSpec(
        entity_set=entity_set.name,
        title=label(entity_set.name),
        fields=tuple(fields),
        tables=tuple(tables),
    )


def profile_toml(specs: list[DocumentSpec]) -> str:
    """`[documents."…"]` tables of a profile for these specs, to paste into a profile file."""
    lines: list[str] = []
    for spec in specs:
        lines.append(f"[documents.{_quoted(spec.entity_set)}]")
        lines.append(f"title = {_quoted(spec.title)}")
        lines.append("fields = [")
        lines += [f"  {_inline(c)}," for c in spec.fields]
        lines.append("]")
        lines.append("")
        for table in spec.tables:
            lines.append(f"[[documents.{_quoted(spec.entity_set)}.tables]]")
            lines.append(f"label = {_quoted(table.label)}")
            lines.append(f"property = {_quoted(table.property)}")
            lines.append("columns = [")
            lines += [f"  {_inline(c)}," for c in table.columns]
            lines.append("]")
            lines.append("")
    return "\n".join(lines)


def _inline(column: Column) -> str:
    parts = [f"label = {_quoted(column.label)}", f"property = {_quoted(column.property)}"]
    if column.reference:
        parts.append(f"reference = {_quoted(column.reference)}")
    elif column.format != "text":
        parts.append(f"format = {_quoted(column.format)}")
    return "{ " + ", ".join(parts) + " }"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
