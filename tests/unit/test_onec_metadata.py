"""Reading 1C's `$metadata` (CSDL) into entity sets for `onec discover`."""

from __future__ import annotations

import pytest

from adapters.onec.metadata import Property, parse_metadata
from gateway.errors import MalformedAnswer

# Trimmed from a 1C:Enterprise 8.3 publication, in its namespaces and attribute order.
CSDL = """<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">
<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
    m:DataServiceVersion="3.0">
<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">
  <EntityType Name="Task_ЗадачаИсполнителя">
    <Key><PropertyRef Name="Ref_Key"/></Key>
    <Property Name="Ref_Key" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Исполнитель" Type="Edm.String" Nullable="true"/>
    <Property Name="Исполнитель_Type" Type="Edm.String" Nullable="true"/>
    <Property Name="РольИсполнителя_Key" Type="Edm.Guid" Nullable="true"/>
    <Property Name="СрокИсполнения" Type="Edm.DateTime" Nullable="true"/>
  </EntityType>
  <ComplexType Name="Document_Заявка_Строки_RowType">
    <Property Name="Ref_Key" Type="Edm.Guid" Nullable="true"/>
    <Property Name="LineNumber" Type="Edm.Int64" Nullable="true"/>
    <Property Name="Аналитика" Type="Edm.String" Nullable="true"/>
    <Property Name="Аналитика_Type" Type="Edm.String" Nullable="true"/>
  </ComplexType>
  <EntityType Name="Document_Заявка">
    <Key><PropertyRef Name="Ref_Key"/></Key>
    <Property Name="Ref_Key" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Строки" Type="Collection(StandardODATA.Document_Заявка_Строки_RowType)"
        Nullable="true"/>
    <Property Name="Валюта_Key" Type="Edm.Guid" Nullable="true"/>
    <Property Name="СуммаДокумента" Type="Edm.Double" Nullable="true"/>
    <NavigationProperty Name="Валюта" Relationship="StandardODATA.Document_Заявка_Валюта"
        FromRole="Begin" ToRole="End"/>
  </EntityType>
  <Association Name="Document_Заявка_Валюта">
    <End Role="Begin" Type="StandardODATA.Document_Заявка" Multiplicity="*"/>
    <End Role="End" Type="StandardODATA.Catalog_Валюты" Multiplicity="0..1"/>
  </Association>
  <EntityType Name="Catalog_Валюты">
    <Key><PropertyRef Name="Ref_Key"/></Key>
    <Property Name="Ref_Key" Type="Edm.Guid" Nullable="false"/>
  </EntityType>
  <EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">
    <EntitySet Name="Task_ЗадачаИсполнителя" EntityType="StandardODATA.Task_ЗадачаИсполнителя"/>
    <EntitySet Name="Document_Заявка" EntityType="StandardODATA.Document_Заявка"/>
    <EntitySet Name="Catalog_Валюты" EntityType="StandardODATA.Catalog_Валюты"/>
    <AssociationSet Name="Document_Заявка_Валюта"
        Association="StandardODATA.Document_Заявка_Валюта">
      <End Role="Begin" EntitySet="Document_Заявка"/>
      <End Role="End" EntitySet="Catalog_Валюты"/>
    </AssociationSet>
    <FunctionImport Name="ExecuteTask" IsBindable="true" m:IsAlwaysBindable="true">
      <Parameter Name="bindingParameter" Type="StandardODATA.Task_ЗадачаИсполнителя"/>
    </FunctionImport>
  </EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>
""".encode()


def test_every_entity_set_is_read_in_order() -> None:
    assert [s.name for s in parse_metadata(CSDL)] == [
        "Task_ЗадачаИсполнителя",
        "Document_Заявка",
        "Catalog_Валюты",
    ]


def test_a_composite_field_is_one_property_marked_composite() -> None:
    task = parse_metadata(CSDL)[0]
    assert task.properties == (
        Property("Ref_Key", "Edm.Guid"),
        Property("Исполнитель", "Edm.String", composite=True),
        Property("РольИсполнителя_Key", "Edm.Guid"),
        Property("СрокИсполнения", "Edm.DateTime"),
    )
    assert task.properties[2].is_reference and not task.properties[0].is_reference
    assert task.actions == ("ExecuteTask",)


def test_a_tabular_section_lists_the_columns_of_its_row_type() -> None:
    document = parse_metadata(CSDL)[1]
    assert [p.name for p in document.properties] == ["Ref_Key", "Валюта_Key", "СуммаДокумента"]
    [table] = document.tables
    assert table.name == "Строки"
    assert [(c.name, c.composite) for c in table.columns] == [
        ("Ref_Key", False),
        ("LineNumber", False),
        ("Аналитика", True),
    ]


@pytest.mark.parametrize("content", [b"<edmx:Edmx", b'{"odata.metadata": ""}', b"<root/>"])
def test_what_is_not_csdl_is_a_malformed_answer(content: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        parse_metadata(content)


def test_a_navigation_property_names_the_set_its_reference_leads_to() -> None:
    document = parse_metadata(CSDL)[1]
    assert document.references == (("Валюта", "Catalog_Валюты"),)
    assert parse_metadata(CSDL)[0].references == ()
