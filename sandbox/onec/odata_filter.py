"""`$filter` and `$orderby` for the subset 1C's standard OData understands (design 5.2)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.onec.metadata import EntitySet
from sandbox.onec.model import Composite, Row

Predicate = Callable[[Row], Any]


class FilterError(ValueError):
    """A query option 1C would refuse (error code 14)."""


@dataclass(frozen=True)
class Cast:
    """`cast(guid'…', 'Catalog_X')`: a reference typed for comparison with a composite field."""

    ref: uuid.UUID
    set_name: str


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<guid>guid'(?P<guid_value>[^']*)')
    | (?P<datetime>datetime'(?P<datetime_value>[^']*)')
    | (?P<string>'(?P<string_value>(?:[^']|'')*)')
    | (?P<number>-?\d+(?:\.\d+)?)[mMdDfFlL]?
    | (?P<punct>[(),/])
    | (?P<name>[^\W\d]\w*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_UNSUPPORTED = {
    "tolower",
    "toupper",
    "length",
    "indexof",
    "substring",
    "startswith",
    "endswith",
    "trim",
    "concat",
    "year",
    "month",
    "day",
    "round",
    "any",
    "all",
    "isof",
}


@dataclass(frozen=True)
class _Token:
    kind: str
    value: Any


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"Неверный синтаксис $filter в позиции {position + 1}")
        position = match.end()
        if match["guid"]:
            tokens.append(_Token("literal", _guid(match["guid_value"])))
        elif match["datetime"]:
            tokens.append(_Token("literal", _datetime(match["datetime_value"])))
        elif match["string"] is not None:
            tokens.append(_Token("literal", match["string_value"].replace("''", "'")))
        elif match["number"]:
            tokens.append(_Token("literal", Decimal(match["number"])))
        elif match["punct"]:
            tokens.append(_Token(match["punct"], match["punct"]))
        else:
            name = match["name"]
            keyword = {"true": True, "false": False, "null": None}
            if name in keyword:
                tokens.append(_Token("literal", keyword[name]))
            else:
                tokens.append(_Token("name", name))
    return tokens


class _Parser:
    def __init__(self, text: str, entity_set: EntitySet) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.entity_set = entity_set

    def parse(self) -> Predicate:
        expression = self.or_expression()
        if self.position != len(self.tokens):
            raise FilterError("Неверный синтаксис $filter: лишние символы в конце")
        return expression

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, kind: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (kind is not None and token.kind != kind):
            raise FilterError("Неверный синтаксис $filter: неожиданный конец выражения")
        self.position += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "name" and token.value in words:
            self.position += 1
            return str(token.value)
        return None

    def or_expression(self) -> Predicate:
        return self._joined("or", self.and_expression, _either)

    def and_expression(self) -> Predicate:
        return self._joined("and", self.not_expression, _both)

    def _joined(
        self,
        word: str,
        operand: Callable[[], Predicate],
        join: Callable[[Predicate, Predicate], Predicate],
    ) -> Predicate:
        """Operands separated by the keyword `word`, joined left to right."""
        left = operand()
        while self.keyword(word):
            left = join(left, operand())
        return left

    def not_expression(self) -> Predicate:
        if self.keyword("not"):
            inner = self.not_expression()
            return lambda row: not _truth(inner(row))
        return self.comparison()

    def comparison(self) -> Predicate:
        left = self.primary()
        operator = self.keyword(*_COMPARISONS)
        if operator is None:
            return left
        right = self.primary()
        return lambda row: compare(operator, left(row), right(row))

    def primary(self) -> Predicate:
        token = self.take()
        if token.kind == "(":
            inner = self.or_expression()
            self.take(")")
            return inner
        if token.kind == "literal":
            value = token.value
            return lambda row: value
        if token.kind != "name":
            raise FilterError(f"Неверный синтаксис $filter: неожиданное «{token.value}»")
        name = str(token.value)
        following = self.peek()
        if following is not None and following.kind == "(":
            return self.function(name)
        if following is not None and following.kind == "/":
            raise FilterError("Эмулятор не поддерживает обращение к полям через «/» в $filter")
        return self.field(name)

    def function(self, name: str) -> Predicate:
        self.take("(")
        if name == "cast":
            ref = self.take("literal").value
            self.take(",")
            type_name = self.take("literal").value
            self.take(")")
            if not isinstance(ref, uuid.UUID) or not isinstance(type_name, str):
                raise FilterError("cast ожидает guid'…' и имя типа строкой")
            cast = Cast(ref, type_name.removeprefix("StandardODATA."))
            return lambda row: cast
        if name == "substringof":
            needle = self.or_expression()
            self.take(",")
            haystack = self.or_expression()
            self.take(")")
            return lambda row: _substring(needle(row), haystack(row))
        if name in _UNSUPPORTED:
            raise FilterError(f"Функция {name} не поддерживается")
        raise FilterError(f"Неизвестная функция {name}")

    def field(self, name: str) -> Predicate:
        prop = self.entity_set.prop(name)
        if prop is None and name.endswith("_Type"):
            base = self.entity_set.prop(name.removesuffix("_Type"))
            if base is not None and base.kind == "composite":
                return lambda row: _type_of(row.get(base.name))
        if prop is None or prop.kind == "table":
            raise FilterError(f"Неизвестное поле {name} в $filter")
        return lambda row: row.get(name)


def compile_filter(text: str, entity_set: EntitySet) -> Predicate:
    """A predicate over typed rows; raises FilterError on what 1C would refuse."""
    return _Parser(text, entity_set).parse()


def compare(operator: str, left: Any, right: Any) -> bool:
    """One comparison with 1C's typing; a composite field equals only a `cast(...)` value."""
    if isinstance(left, Composite) or isinstance(right, Composite):
        composite, other = (left, right) if isinstance(left, Composite) else (right, left)
        if operator not in ("eq", "ne"):
            raise FilterError("Составное поле сравнивается только операциями eq и ne")
        # 1C: without cast(...) the literal has no type, so it equals no composite value.
        equal = (
            isinstance(other, Cast)
            and other.ref == composite.ref
            and other.set_name == composite.set_name
        )
        return equal if operator == "eq" else not equal
    if isinstance(left, Cast) or isinstance(right, Cast):
        left = left.ref if isinstance(left, Cast) else left
        right = right.ref if isinstance(right, Cast) else right
    if left is None or right is None:
        if operator not in ("eq", "ne"):
            return False
        return bool(_COMPARISONS[operator](left, right))
    if _kind(left) != _kind(right):
        raise FilterError(f"Несовместимые типы в сравнении: {_kind(left)} и {_kind(right)}")
    return bool(_COMPARISONS[operator](left, right))


def order_key(entity_set: EntitySet, text: str) -> list[tuple[str, bool]]:
    """`$orderby` as (field, descending) pairs; unknown fields refused."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise FilterError(f"Неверный $orderby: «{part.strip()}»")
        prop = entity_set.prop(words[0])
        if prop is None or prop.kind == "table":
            raise FilterError(f"Неизвестное поле {words[0]} в $orderby")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys


def sort_rows(rows: list[Row], keys: list[tuple[str, bool]]) -> list[Row]:
    """Rows sorted by the keys (stable; GUIDs and composites by their text)."""
    ordered = list(rows)
    for name, descending in reversed(keys):
        ordered.sort(key=lambda row: _sortable(row.get(name)), reverse=descending)
    return ordered


def _sortable(value: Any) -> Any:
    if isinstance(value, Composite):
        return (1, str(value.ref))
    if isinstance(value, uuid.UUID):
        return (1, str(value))
    if value is None:
        return (0, "")
    return (1, value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | Decimal | float):
        return "Number"
    if isinstance(value, uuid.UUID):
        return "Guid"
    if isinstance(value, datetime):
        return "DateTime"
    return "String" if isinstance(value, str) else type(value).__name__


def _type_of(value: Any) -> str:
    return value.type_name if isinstance(value, Composite) else ""


def _substring(needle: Any, haystack: Any) -> bool:
    if not isinstance(needle, str) or not isinstance(haystack, str):
        raise FilterError("substringof ожидает строки")
    return needle.casefold() in haystack.casefold()


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FilterError("Логическая операция над нелогическим значением")
    return value


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: _truth(left(row)) or _truth(right(row))


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: _truth(left(row)) and _truth(right(row))


def _guid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise FilterError(f"Неверный литерал guid'{text}'") from exc


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise FilterError(f"Неверный литерал datetime'{text}'") from exc
