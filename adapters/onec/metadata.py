"""1C's OData `$metadata` (CSDL XML) read into entity sets with their properties, for profiles.

Element names are matched by local name: 1C publishes CSDL under the EDM namespace of its
platform version, and `onec discover` should read any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

from adapters.onec.odata_errors import odata_error
from adapters.onec.session import UPSTREAM, OneCSession, safe_url
from gateway.errors import AuthenticationFailed, MalformedAnswer

METADATA_PATH: Final = "/odata/standard.odata/$metadata"
KEY_PROPERTY: Final = "Ref_Key"
KEY_SUFFIX: Final = "_Key"
TYPE_SUFFIX: Final = "_Type"
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True, slots=True)
class Property:
    """One property: `composite` when 1C publishes it as `X` plus `X_Type` (several types)."""

    name: str
    type: str
    composite: bool = False

    @property
    def is_reference(self) -> bool:
        """A single-type reference (`X_Key`, a GUID)."""
        return (
            self.name.endswith(KEY_SUFFIX) and self.name != KEY_PROPERTY and self.type == "Edm.Guid"
        )


@dataclass(frozen=True, slots=True)
class TabularSection:
    """A tabular section: an embedded collection of rows with these columns."""

    name: str
    columns: tuple[Property, ...]


@dataclass(frozen=True, slots=True)
class EntitySet:
    """An entity set with its plain properties, tabular sections and bound actions.

    `references` maps a navigation property (`Контрагент`, beside `Контрагент_Key`) to the
    entity set it leads to, so a reference can be shown by its target's `Description`.
    """

    name: str
    properties: tuple[Property, ...]
    tables: tuple[TabularSection, ...] = ()
    actions: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()


def read_metadata(session: OneCSession, base_url: str) -> list[EntitySet]:
    """GET `$metadata` under the OData root of `base_url` and parse it."""
    url = base_url.rstrip("/") + METADATA_PATH
    answer = session.request("GET", url, headers={"Accept": "application/xml"})
    if answer.status != 200:
        raise odata_error(answer)
    if answer.is_html:
        raise AuthenticationFailed(
            f"1C answered an HTML page instead of $metadata at {safe_url(url)}: usually the web "
            "server's login page, or the OData interface is not published"
        )
    return parse_metadata(answer.body, url)


def parse_metadata(content: bytes, url: str = "$metadata") -> list[EntitySet]:
    """Entity sets of a CSDL document, in its order; MalformedAnswer if it is not CSDL."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedAnswer(UPSTREAM, f"unreadable XML from {safe_url(url)}: {exc}") from exc
    entity_types = {_qualified(e): e for e in _all(root, "EntityType")}
    complex_types = {_qualified(e): e for e in _all(root, "ComplexType")}
    if not entity_types:
        raise MalformedAnswer(UPSTREAM, f"{safe_url(url)} holds no CSDL entity types")
    actions = _bound_actions(root)
    targets = _association_targets(root)
    sets = []
    for element in _all(root, "EntitySet"):
        name = element.get("Name", "")
        entity_type = entity_types.get(element.get("EntityType", ""))
        if entity_type is None:
            continue
        properties, tables = _properties(entity_type, complex_types)
        references = tuple(
            (nav.get("Name", ""), targets[(relation, nav.get("ToRole", ""))])
            for nav in _children(entity_type, "NavigationProperty")
            if (relation := nav.get("Relationship", "").rsplit(".", 1)[-1], nav.get("ToRole", ""))
            in targets
        )
        sets.append(EntitySet(name, properties, tables, tuple(actions.get(name, ())), references))
    return sets


def _association_targets(root: etree._Element) -> dict[tuple[str, str], str]:
    """(association, role) → the entity set at that end, from the AssociationSets."""
    found = {}
    for association_set in _all(root, "AssociationSet"):
        association = association_set.get("Association", "").rsplit(".", 1)[-1]
        for end in _children(association_set, "End"):
            found[(association, end.get("Role", ""))] = end.get("EntitySet", "")
    return found


def _properties(
    entity_type: etree._Element, complex_types: dict[str, etree._Element]
) -> tuple[tuple[Property, ...], tuple[TabularSection, ...]]:
    raw = [(p.get("Name", ""), p.get("Type", "")) for p in _children(entity_type, "Property")]
    names = {name for name, _ in raw}
    properties: list[Property] = []
    tables: list[TabularSection] = []
    for name, kind in raw:
        if name.endswith(TYPE_SUFFIX) and name.removesuffix(TYPE_SUFFIX) in names:
            continue  # shown with its value property, as one composite field
        if kind.startswith("Collection(") and kind.endswith(")"):
            row_type = complex_types.get(kind[len("Collection(") : -1])
            columns = () if row_type is None else _columns(row_type)
            tables.append(TabularSection(name, columns))
            continue
        properties.append(Property(name, kind, composite=f"{name}{TYPE_SUFFIX}" in names))
    return tuple(properties), tuple(tables)


def _columns(row_type: etree._Element) -> tuple[Property, ...]:
    raw = [(p.get("Name", ""), p.get("Type", "")) for p in _children(row_type, "Property")]
    names = {name for name, _ in raw}
    return tuple(
        Property(name, kind, composite=f"{name}{TYPE_SUFFIX}" in names)
        for name, kind in raw
        if not (name.endswith(TYPE_SUFFIX) and name.removesuffix(TYPE_SUFFIX) in names)
    )


def _bound_actions(root: etree._Element) -> dict[str, list[str]]:
    """Action names by the entity set they bind to (`ExecuteTask` on `Task_…`)."""
    found: dict[str, list[str]] = {}
    for function in _all(root, "FunctionImport"):
        if function.get("IsBindable") != "true":
            continue
        binding = next(iter(_children(function, "Parameter")), None)
        if binding is None:
            continue
        target = binding.get("Type", "").rsplit(".", 1)[-1]
        found.setdefault(target, []).append(function.get("Name", ""))
    return found


def _qualified(element: etree._Element) -> str:
    schema = element.getparent()
    namespace = schema.get("Namespace", "") if schema is not None else ""
    name = element.get("Name", "")
    return f"{namespace}.{name}" if namespace else name


def _all(root: etree._Element, local_name: str) -> list[etree._Element]:
    return [
        e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local_name
    ]


def _children(parent: etree._Element, local_name: str) -> list[etree._Element]:
    return [e for e in parent if isinstance(e.tag, str) and etree.QName(e).localname == local_name]
