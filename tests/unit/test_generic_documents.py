"""A document type the profile does not describe, shown from `$metadata`, and as a profile."""

from __future__ import annotations

import tomllib

from adapters.onec.generic_documents import document_spec, label, profile_toml
from adapters.onec.metadata import EntitySet, Property, TabularSection
from adapters.onec.profile import BUILTIN_DIR, Column, parse_profile

ORDER = EntitySet(
    "Document_ЗаказПоставщику",
    (
        Property("Ref_Key", "Edm.Guid"),
        Property("DataVersion", "Edm.String"),
        Property("Number", "Edm.String"),
        Property("Контрагент_Key", "Edm.Guid"),
        Property("Склад_Key", "Edm.Guid"),  # its catalog is not published: no navigation
        Property("Основание", "Edm.String", composite=True),
        Property("СуммаДокумента", "Edm.Double"),
        Property("ДатаПоставки", "Edm.DateTime"),
        Property("Согласован", "Edm.Boolean"),
        Property("Комментарий", "Edm.String"),
    ),
    (
        TabularSection(
            "Товары",
            (
                Property("Ref_Key", "Edm.Guid"),
                Property("LineNumber", "Edm.Int64"),
                Property("Номенклатура_Key", "Edm.Guid"),
                Property("Количество", "Edm.Double"),
            ),
        ),
    ),
    references=(("Контрагент", "Catalog_Контрагенты"),),
)
ROWS = EntitySet(
    "Document_ЗаказПоставщику_Товары",
    (),
    references=(("Номенклатура", "Catalog_Номенклатура"),),
)


def test_identifiers_read_as_words() -> None:
    assert label("СуммаДокумента") == "Сумма документа"
    assert label("Document_ЗаявкаНаРасходованиеДенежныхСредств") == (
        "Заявка на расходование денежных средств"
    )
    assert label("СуммаНДС") == "Сумма НДС"


def test_every_attribute_that_reads_as_text_is_shown_and_references_by_their_catalog() -> None:
    spec = document_spec(ORDER, {ROWS.name: ROWS})
    assert spec.title == "Заказ поставщику"
    assert spec.fields == (
        Column("Контрагент", "Контрагент", reference="Catalog_Контрагенты"),
        Column("Сумма документа", "СуммаДокумента", "money"),
        Column("Дата поставки", "ДатаПоставки", "date"),
        Column("Согласован", "Согласован", "boolean"),
        Column("Комментарий", "Комментарий"),
    )
    [goods] = spec.tables
    assert (goods.label, goods.property) == ("Товары", "Товары")
    assert goods.columns == (
        Column("Номенклатура", "Номенклатура", reference="Catalog_Номенклатура"),
        Column("Количество", "Количество", "number"),
    )


def test_the_written_profile_tables_load_as_the_same_spec() -> None:
    spec = document_spec(ORDER, {ROWS.name: ROWS})
    base = tomllib.loads((BUILTIN_DIR / "bsp.toml").read_text(encoding="utf-8"))
    base["documents"] = tomllib.loads(profile_toml([spec]))["documents"]
    assert parse_profile(base).documents[ORDER.name] == spec
