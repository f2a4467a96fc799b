"""Reading 1C's OData values: GUIDs and empty references, zone-less dates, composite types,
and presentation strings formatted the way 1C shows them."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Final

EMPTY_GUID: Final = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE_PREFIX: Final = "0001-01-01"
TYPE_PREFIX: Final = "StandardODATA."
UNDEFINED_TYPE: Final = "StandardODATA.Undefined"

Row = dict[str, Any]  # one entity of an OData answer, as JSON gives it


def ref(value: Any) -> str | None:
    """A reference GUID, or None for an empty or missing reference."""
    if not isinstance(value, str) or not value or value == EMPTY_GUID:
        return None
    return value


def composite(row: dict[str, Any], name: str) -> tuple[str, str] | None:
    """A composite-type field `<name>` + `<name>_Type` as (entity set, GUID), or None if empty."""
    type_name = row.get(f"{name}_Type")
    guid = ref(row.get(name))
    if not isinstance(type_name, str) or type_name == UNDEFINED_TYPE or guid is None:
        return None
    return type_name.removeprefix(TYPE_PREFIX), guid


def date(value: Any, zone: timezone | None) -> datetime | None:
    """A 1C date (no zone; server-local) as an aware datetime, None for the empty date."""
    if not isinstance(value, str) or not value or value.startswith(EMPTY_DATE_PREFIX):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone) if zone else parsed.astimezone()
    return parsed


def guid_literal(guid: str) -> str:
    """`guid'…'` for a $filter."""
    return f"guid'{guid}'"


def any_of(property_name: str, guids: list[str]) -> str:
    """A $filter matching any of `guids` on `property_name` (1C's OData has no `in`)."""
    return " or ".join(f"{property_name} eq {guid_literal(g)}" for g in guids)


def text(value: Any, fmt: str, zone: timezone | None) -> str:
    """A property value as the card and the PDF show it, in 1C's Russian conventions."""
    if value is None:
        return ""
    if fmt in ("date", "datetime"):
        moment = date(value, zone)
        if moment is None:
            return ""
        return moment.strftime("%d.%m.%Y" if fmt == "date" else "%d.%m.%Y %H:%M:%S")
    if fmt in ("money", "number"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if fmt == "money":
            return f"{number:,.2f}".replace(",", " ").replace(".", ",")
        return f"{number:,f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")
    if fmt == "boolean" or isinstance(value, bool):
        return "Да" if value else "Нет"
    return str(value)


def as_int(value: Any) -> int:
    """A whole number however 1C sends it (`LineNumber` comes as a string), 0 if it is none."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
