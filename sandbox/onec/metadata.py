"""Entity sets of the emulated infobase (properties, kinds, actions) and their CSDL `$metadata`."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from sandbox.onec.documents import DOCUMENT_TYPES
from sandbox.onec.model import APPROVALS, TASKS, USERS


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
    """An OData entity set with its properties in output order and its bound actions."""

    name: str
    props: tuple[Prop, ...]
    actions: tuple[str, ...] = ()

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
        name, kind="table", columns=(Prop("Ref_Key", "Edm.Guid"), Prop("LineNumber"), *columns)
    )


_HEAD = (Prop("Ref_Key", "Edm.Guid"), Prop("DataVersion"), Prop("DeletionMark", "Edm.Boolean"))
_CATALOG_HEAD = (*_HEAD, Prop("Code"), Prop("Description"))


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
            props.append(
                Prop(field.prop, "Edm.Decimal" if field.kind == "amount" else "Edm.String")
            )
    props.append(_ref("Автор", USERS))
    props.append(Prop("Комментарий"))
    for table in kind.tables:
        columns = [
            Prop(column.prop, "Edm.Decimal" if column.kind == "amount" else "Edm.String")
            for column in table.columns
        ]
        props.append(_table(table.name, *columns))
    return EntitySet(kind.set_name, tuple(props), ("Post", "Unpost"))


ENTITY_SETS: dict[str, EntitySet] = {
    entity_set.name: entity_set
    for entity_set in (
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
        _catalog("Контрагенты", Prop("ИНН")),
        _catalog("Валюты"),
        _catalog("ВидыОтчетов"),
        _catalog("Периоды"),
        *(_document(name) for name in DOCUMENT_TYPES),
        EntitySet(
            APPROVALS,
            (
                *_HEAD,
                Prop("Number"),
                Prop("Date", "Edm.DateTime"),
                Prop("Description"),
                Prop("Started", "Edm.Boolean"),
                Prop("Completed", "Edm.Boolean"),
                Prop("Предмет", kind="composite"),
                _ref("Автор", USERS),
                Prop("Состояние"),
                Prop("ТекущийЭтап", "Edm.Int32"),
                Prop("КоличествоЭтапов", "Edm.Int32"),
                _table(
                    "Маршрут",
                    Prop("НомерЭтапа", "Edm.Int32"),
                    Prop("НаименованиеЭтапа"),
                    _ref("Исполнитель", USERS),
                ),
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
                Prop("РольИсполнителя_Key", "Edm.Guid", "ref", "Catalog_РолиИсполнителей"),
                Prop("Предмет", kind="composite"),
                Prop("ПредметСтрокой"),
                Prop("СрокИсполнения", "Edm.DateTime"),
                Prop("Описание"),
                Prop("РезультатВыполнения"),
                Prop("ДатаИсполнения", "Edm.DateTime"),
                Prop("РешениеСогласования"),
                Prop("НомерЭтапа", "Edm.Int32"),
                Prop("НаименованиеЭтапа"),
            ),
            ("ExecuteTask",),
        ),
    )
}

_EDMX = "http://schemas.microsoft.com/ado/2007/06/edmx"
_EDM = "http://schemas.microsoft.com/ado/2009/11/edm"
_M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"


def csdl() -> str:
    """The `$metadata` document: entity types, row complex types, sets and bound actions."""
    types: list[str] = []
    sets: list[str] = []
    functions: list[str] = []
    for entity_set in ENTITY_SETS.values():
        properties: list[str] = []
        for prop in entity_set.props:
            if prop.kind == "table":
                row_type = f"{entity_set.name}_{prop.name}_RowType"
                types.append(_complex_type(row_type, prop.columns))
                properties.append(
                    _property(prop.name, f"Collection(StandardODATA.{row_type})", False)
                )
            elif prop.kind == "composite":
                properties.append(_property(prop.name, "Edm.String"))
                properties.append(_property(f"{prop.name}_Type", "Edm.String"))
            else:
                properties.append(_property(prop.name, prop.edm, prop.name != "Ref_Key"))
        types.append(
            f'<EntityType Name="{entity_set.name}"><Key><PropertyRef Name="Ref_Key"/></Key>'
            + "".join(properties)
            + "</EntityType>"
        )
        sets.append(
            f'<EntitySet Name="{entity_set.name}" EntityType="StandardODATA.{entity_set.name}"/>'
        )
        for action in entity_set.actions:
            functions.append(
                f'<FunctionImport Name="{action}" IsBindable="true" m:IsAlwaysBindable="true">'
                f'<Parameter Name="bindingParameter" Type="StandardODATA.{entity_set.name}"/>'
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
        + f'<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true" xmlns:m="{_M}">'
        + "".join(sets)
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
