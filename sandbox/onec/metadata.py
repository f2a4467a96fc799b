"""Entity sets of the emulated infobase (properties, kinds, actions) and their CSDL `$metadata`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from sandbox.onec.documents import DOCUMENT_TYPES
from sandbox.onec.model import (
    APPROVALS,
    ASSIGNMENTS,
    PERFORMER_GROUPS,
    PERFORMERS,
    ROLES,
    TASKS,
    USER_GROUPS,
    USERS,
)

NUMBER = "Edm.Double"  # 1C types every number attribute so and sends JSON numbers


@dataclass(frozen=True)
class Prop:
    """A property of an entity type: plain, single-type reference, composite reference or table."""

    name: str
    edm: str = "Edm.String"
    kind: str = "plain"  # plain | ref | composite | table
    target: str = ""  # entity set a single-type reference points into
    columns: tuple[Prop, ...] = ()

    @property
    def presentation_name(self) -> str:
        """`<Имя>____Presentation` for references, '' otherwise."""
        if self.kind == "ref":
            return self.name.removesuffix("_Key") + "____Presentation"
        return self.name + "____Presentation" if self.kind == "composite" else ""


@dataclass(frozen=True)
class EntitySet:
    """An OData entity set with its properties in output order, bound actions and key.

    A tabular section is also a set of its own (`owner` and `table` name it), keyed by
    `Ref_Key` + `LineNumber`; a register is keyed by its dimensions.
    """

    name: str
    props: tuple[Prop, ...]
    actions: tuple[str, ...] = ()
    keys: tuple[str, ...] = ("Ref_Key",)
    owner: str = ""
    table: str = ""

    @property
    def by_ref(self) -> bool:
        """Addressable as `Set(guid'…')`: an object keyed by `Ref_Key` alone."""
        return self.keys == ("Ref_Key",)

    def prop(self, name: str) -> Prop | None:
        """A property by name."""
        return _index(self).get(name)


_INDEXES: dict[str, dict[str, Prop]] = {}


def _index(entity_set: EntitySet) -> dict[str, Prop]:
    if entity_set.name not in _INDEXES:
        _INDEXES[entity_set.name] = {prop.name: prop for prop in entity_set.props}
    return _INDEXES[entity_set.name]


def _ref(name: str, target: str) -> Prop:
    return Prop(f"{name}_Key", "Edm.Guid", "ref", target)


def _table(name: str, *columns: Prop) -> Prop:
    return Prop(
        name,
        kind="table",
        columns=(Prop("Ref_Key", "Edm.Guid"), Prop("LineNumber", "Edm.Int64"), *columns),
    )


_HEAD = (Prop("Ref_Key", "Edm.Guid"), Prop("DataVersion"), Prop("DeletionMark", "Edm.Boolean"))
_CATALOG_HEAD = (*_HEAD, Prop("Code"), Prop("Description"))
# What every business process of the emulator starts with (`Согласование`, `Задание`).
_PROCESS_HEAD = (
    *_HEAD,
    Prop("Number"),
    Prop("Date", "Edm.DateTime"),
    Prop("Description"),
    Prop("Started", "Edm.Boolean"),
    Prop("Completed", "Edm.Boolean"),
    Prop("Предмет", kind="composite"),
    _ref("Автор", USERS),
)


def _catalog(name: str, *props: Prop) -> EntitySet:
    return EntitySet(f"Catalog_{name}", (*_CATALOG_HEAD, *props))


def _document(name: str) -> EntitySet:
    kind = DOCUMENT_TYPES[name]
    props: list[Prop] = [
        *_HEAD,
        Prop("Number"),
        Prop("Date", "Edm.DateTime"),
        Prop("Posted", "Edm.Boolean"),
    ]
    for field in kind.fields:
        if field.kind == "ref":
            props.append(Prop(field.prop, "Edm.Guid", "ref", field.target))
        else:
            props.append(Prop(field.prop, NUMBER if field.kind == "amount" else "Edm.String"))
    props.append(_ref("Автор", USERS))
    props.append(Prop("Комментарий"))
    for table in kind.tables:
        columns = [
            Prop(column.prop, "Edm.Guid", "ref", column.target)
            if column.kind == "ref"
            else Prop(column.prop, NUMBER if column.kind in ("amount", "number") else "Edm.String")
            for column in table.columns
        ]
        props.append(_table(table.name, *columns))
    return EntitySet(kind.set_name, tuple(props), ("Post", "Unpost"))


_OBJECT_SETS = (
    _catalog(
        "Пользователи",
        Prop("Недействителен", "Edm.Boolean"),
        Prop("ИдентификаторПользователяИБ", "Edm.Guid"),
        _table(
            "КонтактнаяИнформация",
            Prop("Тип"),
            Prop("Вид"),
            Prop("Представление"),
            Prop("НомерТелефона"),
        ),
    ),
    _catalog("Организации", Prop("ИНН"), Prop("КПП")),
    _catalog(
        "РолиИсполнителей",
        Prop("ИспользуетсяБезОбъектовАдресации", "Edm.Boolean"),
        Prop("ИспользуетсяСОбъектамиАдресации", "Edm.Boolean"),
    ),
    _catalog(
        "ГруппыИсполнителейЗадач",
        _ref("РольИсполнителя", ROLES),
        Prop("ОсновнойОбъектАдресации", kind="composite"),
        Prop("ДополнительныйОбъектАдресации", kind="composite"),
    ),
    _catalog(
        "ГруппыПользователей",
        _ref("Parent", USER_GROUPS),
        Prop("Комментарий"),
        _table("Состав", _ref("Пользователь", USERS)),
    ),
    _catalog("Контрагенты", Prop("ИНН")),
    _catalog("Валюты"),
    _catalog("ВидыОтчетов"),
    _catalog("Склады"),
    _catalog("Номенклатура", Prop("Артикул")),
    _catalog("Периоды"),
    *(_document(name) for name in DOCUMENT_TYPES),
    EntitySet(
        APPROVALS,
        (
            *_PROCESS_HEAD,
            Prop("Состояние"),
            Prop("ТекущийЭтап", NUMBER),
            Prop("КоличествоЭтапов", NUMBER),
            _table(
                "Маршрут",
                Prop("НомерЭтапа", NUMBER),
                Prop("НаименованиеЭтапа"),
                _ref("Исполнитель", USERS),
            ),
        ),
        ("Start", "Stop"),
    ),
    EntitySet(
        ASSIGNMENTS,
        (
            *_PROCESS_HEAD,
            Prop("Исполнитель", kind="composite"),
            Prop("Состояние"),
            Prop("Содержание"),
        ),
        ("Start", "Stop"),
    ),
    EntitySet(
        TASKS,
        (
            *_HEAD,
            Prop("Number"),
            Prop("Date", "Edm.DateTime"),
            Prop("Description"),
            Prop("Executed", "Edm.Boolean"),
            Prop("BusinessProcess", kind="composite"),
            Prop("RoutePoint"),
            Prop("Автор", kind="composite"),
            Prop("АвторСтрокой"),
            Prop("Важность"),
            Prop("Исполнитель", kind="composite"),
            _ref("РольИсполнителя", ROLES),
            Prop("ОсновнойОбъектАдресации", kind="composite"),
            Prop("ДополнительныйОбъектАдресации", kind="composite"),
            _ref("ГруппаИсполнителейЗадач", PERFORMER_GROUPS),
            Prop("СостояниеБизнесПроцесса"),
            Prop("ПринятаКИсполнению", "Edm.Boolean"),
            Prop("ДатаПринятияКИсполнению", "Edm.DateTime"),
            Prop("Предмет", kind="composite"),
            Prop("ПредметСтрокой"),
            Prop("СрокИсполнения", "Edm.DateTime"),
            Prop("Описание"),
            Prop("РезультатВыполнения"),
            Prop("ДатаИсполнения", "Edm.DateTime"),
            Prop("РешениеСогласования"),
            Prop("НомерЭтапа", NUMBER),
            Prop("НаименованиеЭтапа"),
        ),
        ("ExecuteTask",),
    ),
    EntitySet(
        PERFORMERS,
        (
            _ref("РольИсполнителя", ROLES),
            Prop("Исполнитель", kind="composite"),
            Prop("ОсновнойОбъектАдресации", kind="composite"),
            Prop("ДополнительныйОбъектАдресации", kind="composite"),
            _ref("ГруппаИсполнителейЗадач", PERFORMER_GROUPS),
        ),
        keys=(
            "РольИсполнителя_Key",
            "Исполнитель",
            "ОсновнойОбъектАдресации",
            "ДополнительныйОбъектАдресации",
        ),
    ),
)


def _table_sets(owner: EntitySet) -> list[EntitySet]:
    """Each tabular section as a set `<Owner>_<Table>` keyed by `Ref_Key` + `LineNumber`."""
    return [
        EntitySet(
            f"{owner.name}_{prop.name}",
            prop.columns,
            keys=("Ref_Key", "LineNumber"),
            owner=owner.name,
            table=prop.name,
        )
        for prop in owner.props
        if prop.kind == "table"
    ]


ENTITY_SETS: dict[str, EntitySet] = {
    entity_set.name: entity_set
    for owner in _OBJECT_SETS
    for entity_set in (owner, *_table_sets(owner))
}

_EDMX = "http://schemas.microsoft.com/ado/2007/06/edmx"
_EDM = "http://schemas.microsoft.com/ado/2009/11/edm"
_M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"


def navigation_name(prop: Prop) -> str:
    """The navigation property beside a single-type reference: `Контрагент` for `Контрагент_Key`."""
    return prop.name.removesuffix("_Key")


def navigations(entity_set: EntitySet) -> dict[str, Prop]:
    """The set's navigation properties by name: one per reference into a published set."""
    return {
        navigation_name(prop): prop
        for prop in entity_set.props
        if prop.kind == "ref" and prop.target in ENTITY_SETS and prop.name != "Ref_Key"
    }


@functools.cache
def csdl() -> str:
    """The `$metadata` document: entity types, row types, navigation properties, sets, actions."""
    types: list[str] = []
    associations: list[str] = []
    sets: list[str] = []
    association_sets: list[str] = []
    functions: list[str] = []
    for entity_set in ENTITY_SETS.values():
        name = entity_set.name
        properties: list[str] = []
        for prop in entity_set.props:
            if prop.kind == "table":
                row_type = f"{name}_{prop.name}_RowType"
                types.append(_complex_type(row_type, prop.columns))
                properties.append(
                    _property(prop.name, f"Collection(StandardODATA.{row_type})", False)
                )
            elif prop.kind == "composite":
                properties.append(
                    _property(prop.name, "Edm.String", prop.name not in entity_set.keys)
                )
                properties.append(_property(f"{prop.name}_Type", "Edm.String"))
            else:
                properties.append(_property(prop.name, prop.edm, prop.name not in entity_set.keys))
        for navigation, prop in navigations(entity_set).items():
            relation = f"{name}_{navigation}"
            properties.append(
                f"<NavigationProperty Name={quoteattr(navigation)} "
                f'Relationship="StandardODATA.{relation}" FromRole="Begin" ToRole="End"/>'
            )
            associations.append(
                f'<Association Name="{relation}">'
                f'<End Role="Begin" Type="StandardODATA.{name}" Multiplicity="*"/>'
                f'<End Role="End" Type="StandardODATA.{prop.target}" Multiplicity="0..1"/>'
                "</Association>"
            )
            association_sets.append(
                f'<AssociationSet Name="{relation}" Association="StandardODATA.{relation}">'
                f'<End Role="Begin" EntitySet="{name}"/><End Role="End" EntitySet="{prop.target}"/>'
                "</AssociationSet>"
            )
        keys = "".join(f"<PropertyRef Name={quoteattr(key)}/>" for key in entity_set.keys)
        types.append(
            f'<EntityType Name="{name}"><Key>{keys}</Key>' + "".join(properties) + "</EntityType>"
        )
        sets.append(f'<EntitySet Name="{name}" EntityType="StandardODATA.{name}"/>')
        for action in entity_set.actions:
            functions.append(
                f'<FunctionImport Name="{action}" IsBindable="true" m:IsAlwaysBindable="true">'
                f'<Parameter Name="bindingParameter" Type="StandardODATA.{name}"/>'
                + (
                    '<Parameter Name="PostingModeOperational" Type="Edm.Boolean"/>'
                    if action == "Post"
                    else ""
                )
                + "</FunctionImport>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<edmx:Edmx xmlns:edmx="{_EDMX}" Version="1.0">'
        f'<edmx:DataServices xmlns:m="{_M}" m:DataServiceVersion="3.0">'
        f'<Schema xmlns="{_EDM}" Namespace="StandardODATA">'
        + "".join(types)
        + "".join(associations)
        + f'<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true" xmlns:m="{_M}">'
        + "".join(sets)
        + "".join(association_sets)
        + "".join(functions)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )


def _property(name: str, edm: str, nullable: bool = True) -> str:
    flag = "true" if nullable else "false"
    return f'<Property Name={quoteattr(name)} Type={quoteattr(edm)} Nullable="{flag}"/>'


def _complex_type(name: str, columns: tuple[Prop, ...]) -> str:
    return (
        f'<ComplexType Name="{name}">'
        + "".join(_property(column.name, column.edm) for column in columns)
        + "</ComplexType>"
    )
