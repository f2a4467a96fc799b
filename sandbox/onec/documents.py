"""The two document types under approval: titles, card fields, tables and how values read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.onec.model import EMPTY_DATE, Document, Infobase

PAYMENT_REQUEST = "ЗаявкаНаРасходованиеДенежныхСредств"
REPORT_INSTANCE = "ЭкземплярОтчета"
# A type the gateway's profiles do not describe: other field names, a reference they lack
# (Склад), a table with other columns, one of them a reference (Номенклатура).
PURCHASE_ORDER = "ЗаказПоставщику"


@dataclass(frozen=True)
class CardField:
    """A document attribute shown on the card and the print form, with its label."""

    prop: str  # OData property name (`X_Key` for a reference)
    label: str
    target: str = ""  # referenced catalog for `X_Key`
    kind: str = "string"  # string | amount | ref


@dataclass(frozen=True)
class TableColumn:
    """A column of a tabular section: OData property, label and value kind."""

    prop: str  # `X_Key` for a reference
    label: str
    kind: str = "string"  # string | amount | number | ref
    target: str = ""  # referenced catalog for `X_Key`


@dataclass(frozen=True)
class TableSpec:
    """A tabular section of a document."""

    name: str
    label: str
    columns: tuple[TableColumn, ...]


@dataclass(frozen=True)
class DocumentType:
    """A document type: metadata name, title and what the card and print form show."""

    name: str
    title: str
    fields: tuple[CardField, ...]
    tables: tuple[TableSpec, ...]

    @property
    def set_name(self) -> str:
        """The OData entity set name."""
        return f"Document_{self.name}"


DOCUMENT_TYPES: dict[str, DocumentType] = {
    PAYMENT_REQUEST: DocumentType(
        PAYMENT_REQUEST,
        "Заявка на расходование денежных средств",
        (
            CardField("Организация_Key", "Организация", "Catalog_Организации", "ref"),
            CardField("Контрагент_Key", "Контрагент", "Catalog_Контрагенты", "ref"),
            CardField("СуммаДокумента", "Сумма", kind="amount"),
            CardField("Валюта_Key", "Валюта", "Catalog_Валюты", "ref"),
            CardField("НазначениеПлатежа", "Назначение платежа"),
        ),
        (
            TableSpec(
                "РасшифровкаПлатежа",
                "Расшифровка платежа",
                (
                    TableColumn("СтатьяДвиженияДенежныхСредств", "Статья ДДС"),
                    TableColumn("Назначение", "Назначение"),
                    TableColumn("Сумма", "Сумма", "amount"),
                ),
            ),
        ),
    ),
    REPORT_INSTANCE: DocumentType(
        REPORT_INSTANCE,
        "Экземпляр отчета",
        (
            CardField("ВидОтчета_Key", "Вид отчета", "Catalog_ВидыОтчетов", "ref"),
            CardField("Период_Key", "Период", "Catalog_Периоды", "ref"),
            CardField("Организация_Key", "Организация", "Catalog_Организации", "ref"),
        ),
        (
            TableSpec(
                "Показатели",
                "Показатели",
                (
                    TableColumn("Показатель", "Показатель"),
                    TableColumn("Значение", "Значение", "amount"),
                ),
            ),
        ),
    ),
    PURCHASE_ORDER: DocumentType(
        PURCHASE_ORDER,
        "Заказ поставщику",
        (
            CardField("Организация_Key", "Организация", "Catalog_Организации", "ref"),
            CardField("Контрагент_Key", "Поставщик", "Catalog_Контрагенты", "ref"),
            CardField("Склад_Key", "Склад", "Catalog_Склады", "ref"),
            CardField("СуммаЗаказа", "Сумма заказа", kind="amount"),
            CardField("ЖелаемаяДатаПоступления", "Желаемая дата поступления"),
        ),
        (
            TableSpec(
                "Товары",
                "Товары",
                (
                    TableColumn("Номенклатура_Key", "Номенклатура", "ref", "Catalog_Номенклатура"),
                    TableColumn("Количество", "Количество", "number"),
                    TableColumn("Цена", "Цена", "amount"),
                    TableColumn("Сумма", "Сумма", "amount"),
                ),
            ),
        ),
    ),
}


def document_type(set_or_name: str) -> DocumentType | None:
    """A document type by metadata name or OData set name."""
    return DOCUMENT_TYPES.get(set_or_name.removeprefix("Document_"))


def format_amount(value: Decimal | float | int) -> str:
    """An amount as 1C presents it: `1 250 000,00` (plain spaces, so PDFs extract it verbatim)."""
    return f"{Decimal(str(value)):,.2f}".replace(",", " ").replace(".", ",")


def format_number(value: Decimal | float | int) -> str:
    """A quantity as 1C presents it: no grouping, a decimal comma, no trailing zeros (`2,5`)."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def format_date(value: datetime, with_time: bool = True) -> str:
    """A date as 1C presents it: `20.11.2026 10:15:00` ('' for the empty date)."""
    if value == EMPTY_DATE:
        return ""
    return value.strftime("%d.%m.%Y %H:%M:%S" if with_time else "%d.%m.%Y")


def presentation(document: Document) -> str:
    """`<Title> <Number> от <Date>`, as 1C names a document."""
    kind = document_type(document.set_name)
    title = kind.title if kind else document.set_name
    return f"{title} {document.number} от {format_date(document.date)}"


def card_fields(
    ib: Infobase, document: Document, only: tuple[str, ...] | None = None
) -> list[tuple[str, str]]:
    """(label, text) pairs for the card and the print form, number and date first.

    `only`: the attribute names the 1C extension's settings list (`Контрагент` for
    `Контрагент_Key`), in their order; None: every attribute the document type shows.
    """
    kind = document_type(document.set_name)
    pairs = [("Номер", document.number), ("Дата", format_date(document.date, with_time=False))]
    if kind is None:
        return pairs
    specs = list(kind.fields)
    if only is not None:
        by_name = {spec.prop.removesuffix("_Key"): spec for spec in kind.fields}
        specs = [by_name[name] for name in only if name in by_name]
    for spec in specs:
        value = document.attrs.get(spec.prop)
        pairs.append((spec.label, _text(ib, spec.kind, value, spec.target)))
    return pairs


def card_tables(
    ib: Infobase, document: Document, only: tuple[str, ...] | None = None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(name, column labels, rows as text) for each tabular section, `№` first.

    `only`: the tabular section names the 1C extension's settings list; None: every one.
    """
    kind = document_type(document.set_name)
    if kind is None:
        return []
    tables = []
    for spec in kind.tables:
        if only is not None and spec.name not in only:
            continue
        columns = ["№", *(column.label for column in spec.columns)]
        rows = [
            [str(row["LineNumber"]), *(_cell(ib, column, row) for column in spec.columns)]
            for row in document.tables.get(spec.name, [])
        ]
        tables.append((spec.label, columns, rows))
    return tables


def _cell(ib: Infobase, column: TableColumn, row: dict[str, Any]) -> str:
    value = row.get(column.prop, "")
    if value == "":
        return ""
    if column.kind == "ref":
        return _description(ib, column.target, value)
    if column.kind == "number":
        return format_number(value)
    return format_amount(value) if column.kind == "amount" else str(value)


def _text(ib: Infobase, kind: str, value: Any, target: str) -> str:
    formatters: dict[str, Callable[[Any], str]] = {
        "amount": lambda v: format_amount(v) if v is not None else "",
        "ref": lambda v: _description(ib, target, v),
    }
    formatter = formatters.get(kind)
    return formatter(value) if formatter else ("" if value is None else str(value))


def _description(ib: Infobase, target: str, ref: Any) -> str:
    item = ib.catalog(target).get(ref)
    return item.description if item else ""
