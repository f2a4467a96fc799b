"""The standard OData interface (`<base>/odata/standard.odata/`): reads, PATCH, actions, errors."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request

from sandbox.onec import routing
from sandbox.onec.auth import basic_credentials
from sandbox.onec.documents import document_type
from sandbox.onec.metadata import ENTITY_SETS, EntitySet, Prop, csdl, navigations
from sandbox.onec.model import (
    APPROVALS,
    ASSIGNMENTS,
    EMPTY_REF,
    TASKS,
    USERS,
    Composite,
    Infobase,
    Row,
)
from sandbox.onec.odata_filter import FilterError, compile_filter, order_key, sort_rows
from sandbox.onec.rows import presentation, row, rows, table_rows
from sandbox.onec.state import current

ROOT = "/odata/standard.odata"
STATUS_BY_CODE = {
    "6": 400,
    "9": 404,
    "14": 400,
    "15": 400,
    "19": 405,
    "20": 403,
    "21": 400,
    "-1": 500,
}
LEVELS = ("nometadata", "minimalmetadata", "fullmetadata")
_QUERY_OPTIONS = {
    "$format",
    "$filter",
    "$select",
    "$top",
    "$skip",
    "$orderby",
    "$inlinecount",
    "$expand",
}
_RESOURCE = re.compile(
    r"^(?P<set>[^(/]+)(?:\((?:Ref_Key=)?guid'(?P<key>[^']*)'\))?(?:/(?P<tail>[^/]+))?$"
)

blueprint = Blueprint("odata", __name__)


class ODataError(Exception):
    """An error answered as `odata.error` with one of 1C's codes (status may be overridden)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE[code]


def error_response(code: str, message: str, status: int) -> Response:
    """1C's error body."""
    body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
    return _json(body, status)


@blueprint.errorhandler(ODataError)
def _odata_error(error: ODataError) -> Response:
    return error_response(error.code, error.message, error.status)


@blueprint.get("/")
def service_document() -> Response:
    """The list of entity sets."""
    level = _level()
    body: dict[str, Any] = {"value": [{"name": name, "url": name} for name in ENTITY_SETS]}
    if level != "nometadata":
        body = {"odata.metadata": _root() + "/$metadata", **body}
    return _json(body, 200, level)


@blueprint.get("/$metadata")
def metadata() -> Response:
    """CSDL XML generated from the model."""
    return Response(csdl(), 200, content_type="application/xml;charset=utf-8")


@blueprint.route("/<path:resource>", methods=["GET", "POST", "PATCH", "PUT", "MERGE", "DELETE"])
def resource(resource: str) -> Response:
    """Collections, single entities, `$count` and bound actions."""
    match = _RESOURCE.match(resource)
    if not match or match["set"] not in ENTITY_SETS:
        raise ODataError(
            "6", f"Неправильный URL: сегмент «{resource.split('/')[0]}» не найден", 404
        )
    entity_set = ENTITY_SETS[match["set"]]
    if match["key"] is not None and not entity_set.by_ref:
        raise ODataError(
            "6", f"Неправильный URL: ключ набора {entity_set.name}: {', '.join(entity_set.keys)}"
        )
    key = _key(match["key"]) if match["key"] is not None else None
    tail = match["tail"]
    ib = current().infobase
    if request.method in ("DELETE", "PUT", "MERGE"):
        raise ODataError("19", f"Метод {request.method} не разрешен для этого ресурса")
    if key is None:
        if tail == "$count" and request.method == "GET":
            matched, _ = _query(ib, entity_set, count_only=True)
            return Response(str(len(matched)), 200, content_type="text/plain;charset=utf-8")
        if tail is not None:
            raise ODataError("6", f"Неправильный URL: «{tail}»")
        if request.method == "GET":
            return _collection(ib, entity_set)
        if request.method == "POST":
            return _create(ib, entity_set)
        raise ODataError("19", f"Метод {request.method} не разрешен для набора {entity_set.name}")
    if tail is not None:
        if request.method != "POST":
            raise ODataError("19", "Действия вызываются методом POST")
        return _action(ib, entity_set, key, tail)
    if request.method == "GET":
        if "$expand" in request.args:
            raise ODataError("14", "$expand не поддерживается при обращении к одной сущности")
        return _single(ib, entity_set, key)
    if request.method == "PATCH":
        return _patch(ib, entity_set, key)
    raise ODataError("19", f"Метод {request.method} не разрешен для сущности")


def _collection(ib: Infobase, entity_set: EntitySet) -> Response:
    level = _level()
    selected, count = _query(ib, entity_set)
    select = _select(entity_set, request.args.get("$select"))
    body: dict[str, Any] = {}
    if level != "nometadata":
        body["odata.metadata"] = f"{_root()}/$metadata#{entity_set.name}"
    if count is not None:
        body["odata.count"] = str(count)
    expand = _expand(entity_set, request.args.get("$expand"))
    values = []
    for found in selected:
        value = render(ib, entity_set, found, select, level)
        for name, prop in expand.items():
            value[name] = _expanded(ib, prop, found.get(prop.name))
        values.append(value)
    body["value"] = values
    return _json(body, 200, level)


def _expand(entity_set: EntitySet, text: str | None) -> dict[str, Prop]:
    """`$expand` on a collection: navigation properties by name (no paths)."""
    if text is None or not text.strip():
        return {}
    available = navigations(entity_set)
    chosen: dict[str, Prop] = {}
    for name in (part.strip() for part in text.split(",")):
        if "/" in name:
            raise ODataError("14", f"Эмулятор не поддерживает вложенный $expand: {name}")
        if name not in available:
            raise ODataError("14", f"Неизвестное навигационное свойство {name} в $expand")
        chosen[name] = available[name]
    return chosen


def _expanded(ib: Infobase, prop: Prop, ref: Any) -> dict[str, Any] | None:
    """The referenced entity for `$expand` (null for an empty reference)."""
    if not isinstance(ref, uuid.UUID) or ref == EMPTY_REF:
        return None
    found = row(ib, prop.target, ref)
    if found is None:
        return None
    return render(ib, ENTITY_SETS[prop.target], found, None, "minimalmetadata")


def _query(
    ib: Infobase, entity_set: EntitySet, count_only: bool = False
) -> tuple[list[Row], int | None]:
    args = request.args
    unknown = [name for name in args if name.startswith("$") and name not in _QUERY_OPTIONS]
    if unknown:
        raise ODataError("14", f"Неизвестный параметр запроса {unknown[0]}")
    try:
        keys = _key_lookup(args.get("$filter", "")) if entity_set.by_ref else None
        if keys is not None:
            # 1C answers a filter on Ref_Key from the primary index; so does the emulator,
            # which keeps batched reads of 10,000 tasks from scanning every row per batch.
            found = [r for k in dict.fromkeys(keys) if (r := row(ib, entity_set.name, k))]
        elif entity_set.owner:
            found = table_rows(ib, entity_set.owner, entity_set.table)
        else:
            found = rows(ib, entity_set.name)
        if "$filter" in args:
            predicate = compile_filter(args["$filter"], entity_set)
            found = [r for r in found if predicate(r)]
        if count_only:
            return found, len(found)
        if "$orderby" in args:
            found = sort_rows(found, order_key(entity_set, args["$orderby"]))
    except FilterError as exc:
        raise ODataError("14", str(exc)) from exc
    inline = args.get("$inlinecount", "none")
    if inline not in ("none", "allpages"):
        raise ODataError("14", "Неверное значение $inlinecount")
    count = len(found) if inline == "allpages" else None
    skip = _natural(args, "$skip", 0)
    top = _natural(args, "$top", None)
    return found[skip : None if top is None else skip + top], count


_KEY_TERM = r"\s*Ref_Key\s+eq\s+guid'([0-9A-Fa-f-]{36})'\s*"
_KEYS_ONLY = re.compile(rf"^{_KEY_TERM}(?:or{_KEY_TERM})*$")


def _key_lookup(text: str) -> list[uuid.UUID] | None:
    """The keys of a filter that is only `Ref_Key eq guid'…'` terms joined by `or`, else None."""
    if not _KEYS_ONLY.match(text):
        return None
    try:
        return [uuid.UUID(k) for k in re.findall(r"guid'([0-9A-Fa-f-]{36})'", text)]
    except ValueError:
        return None


def _single(ib: Infobase, entity_set: EntitySet, key: uuid.UUID) -> Response:
    level = _level()
    found = row(ib, entity_set.name, key)
    if found is None:
        raise ODataError("9", f"Объект не найден: {entity_set.name}(guid'{key}')")
    select = _select(entity_set, request.args.get("$select"))
    body = render(ib, entity_set, found, select, level)
    if level != "nometadata":
        body = {"odata.metadata": f"{_root()}/$metadata#{entity_set.name}/@Element", **body}
    return _json(body, 200, level)


def _patch(ib: Infobase, entity_set: EntitySet, key: uuid.UUID) -> Response:
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ODataError("14", "Тело запроса должно быть объектом JSON")
    with ib.lock:
        entity: Any
        if entity_set.name == TASKS:
            entity = ib.tasks.get(key)
        elif entity_set.name.startswith("Document_"):
            entity = ib.documents.get(entity_set.name, {}).get(key)
        else:
            raise ODataError("20", f"Недостаточно прав на изменение данных {entity_set.name}")
        if entity is None:
            raise ODataError("9", f"Объект не найден: {entity_set.name}(guid'{key}')")
        expected = _if_match()
        if expected is not None and expected != entity.data_version:
            raise ODataError(
                "-1", "Версия данных изменилась (If-Match не совпадает с DataVersion)", 412
            )
        fields = {
            name: value for name, value in changes.items() if name not in ("Ref_Key", "DataVersion")
        }
        if entity_set.name == TASKS:
            routing.patch_task(ib, entity, _task_changes(ib, entity_set, fields))
        else:
            _patch_document(ib, entity, fields)
        found = row(ib, entity_set.name, key)
    assert found is not None
    body = render(ib, entity_set, found, None, "minimalmetadata")
    return _json({"odata.metadata": f"{_root()}/$metadata#{entity_set.name}/@Element", **body}, 200)


def _task_changes(ib: Infobase, entity_set: EntitySet, fields: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "Исполнитель" in fields or "Исполнитель_Type" in fields:
        changes["Исполнитель"] = _performer(
            ib, fields.pop("Исполнитель", None), fields.pop("Исполнитель_Type", None)
        )
    for name, value in fields.items():
        prop = entity_set.prop(name)
        if prop is None:
            raise ODataError("14", f"Неизвестное свойство {name}")
        if name not in routing.WRITABLE_TASK_FIELDS:
            raise ODataError("14", f"Свойство {name} недоступно для записи")
        changes[name] = _convert(prop, value)
    if "Важность" in changes and changes["Важность"] not in routing.IMPORTANCE:
        raise ODataError("14", "Неверное значение перечисления Важность")
    return changes


def _performer(ib: Infobase, value: Any, type_name: Any) -> uuid.UUID:
    """A PATCHed `Исполнитель`: a user's GUID with `_Type` Catalog_Пользователи, or empty."""
    if value is None or type_name is None:
        raise ODataError("14", "Составное поле Исполнитель записывается вместе с Исполнитель_Type")
    ref = _key(str(value))
    if ref == EMPTY_REF:
        return EMPTY_REF
    if type_name != f"StandardODATA.{USERS}":
        raise ODataError("14", f"Недопустимый тип значения поля Исполнитель: {type_name}")
    if ib.user(ref) is None:
        raise ODataError("14", f"Объект не найден: {USERS}(guid'{ref}')")
    return ref


def _signed_in(ib: Infobase) -> uuid.UUID | None:
    """The 1C user of the request's Basic-auth login (Пользователи.АвторизованныйПользователь)."""
    credentials = basic_credentials(request.headers.get("Authorization"))
    if credentials is None:
        return None
    for user in ib.catalog(USERS).values():
        if user.login == credentials[0]:
            return user.ref
    return None


def _patch_document(ib: Infobase, document: Any, fields: dict[str, Any]) -> None:
    entity_set = ENTITY_SETS[document.set_name]
    plain = {}
    for name, value in fields.items():
        prop = entity_set.prop(name)
        if prop is None or name in ("Posted",):
            raise ODataError("14", f"Свойство {name} недоступно для записи")
        if name == "DeletionMark":
            document.deletion_mark = bool(value)
        else:
            plain[name] = value
    try:
        routing.edit_document(ib, document, plain)
    except ValueError as exc:
        raise ODataError("14", str(exc)) from exc


def _action(ib: Infobase, entity_set: EntitySet, key: uuid.UUID, action: str) -> Response:
    if action not in entity_set.actions:
        raise ODataError("21", f"Неизвестная функция {action} для {entity_set.name}")
    with ib.lock:
        if entity_set.name == TASKS:
            task = ib.tasks.get(key)
            if task is None:
                raise ODataError("9", f"Объект не найден: {entity_set.name}(guid'{key}')")
            try:
                routing.execute_task(ib, task, signed_in=_signed_in(ib))
            except routing.RouteError as exc:
                raise ODataError("-1", str(exc)) from exc
        elif entity_set.name in (APPROVALS, ASSIGNMENTS):
            approval = ib.approvals.get(key)
            if approval is None or approval.set_name != entity_set.name:
                raise ODataError("9", f"Объект не найден: {entity_set.name}(guid'{key}')")
            if action == "Start":
                raise ODataError("-1", "Бизнес-процесс уже стартован")
            try:
                routing.stop_process(ib, approval)
            except routing.RouteError as exc:
                raise ODataError("-1", str(exc)) from exc
        else:
            document = ib.documents.get(entity_set.name, {}).get(key)
            if document is None:
                raise ODataError("9", f"Объект не найден: {entity_set.name}(guid'{key}')")
            document.posted = action == "Post"
            routing.edit_document(ib, document, {})
    return Response(b"", 200)


def _create(ib: Infobase, entity_set: EntitySet) -> Response:
    kind = document_type(entity_set.name)
    if kind is None:
        raise ODataError(
            "19", f"Создание объектов {entity_set.name} через эмулятор не поддерживается"
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ODataError("14", "Тело запроса должно быть объектом JSON")
    fields = {k: v for k, v in body.items() if k not in ("DataVersion", "Ref_Key")}
    with ib.lock:
        if "Ref_Key" in body:
            ref = _key(str(body["Ref_Key"]))
            if ib.find_document(ref) is not None:
                raise ODataError("15", f"Объект с ключом {ref} уже существует")
            fields["ref"] = str(ref)
        try:
            document = routing.create_document(ib, kind.name, fields)
        except ValueError as exc:
            raise ODataError("14", str(exc)) from exc
        found = row(ib, entity_set.name, document.ref)
    assert found is not None
    body = render(ib, entity_set, found, None, "minimalmetadata")
    return _json({"odata.metadata": f"{_root()}/$metadata#{entity_set.name}/@Element", **body}, 201)


def render(
    ib: Infobase, entity_set: EntitySet, found: Row, select: _Selection | None, level: str
) -> dict[str, Any]:
    """A typed row as 1C's JSON: composites split into `X`/`X_Type`, `LineNumber` as a string."""
    out: dict[str, Any] = {}
    ref = found.get("Ref_Key")
    full = level == "fullmetadata" and entity_set.by_ref
    if full:
        link = f"{entity_set.name}(guid'{ref}')"
        out.update(
            {
                "odata.type": f"StandardODATA.{entity_set.name}",
                "odata.id": f"{_root()}/{link}",
                "odata.editLink": link,
            }
        )
    for prop in entity_set.props:
        if select is not None and prop.name not in select.names:
            continue
        value = found.get(prop.name)
        if prop.kind == "composite":
            composite = value if isinstance(value, Composite) else Composite(uuid.UUID(int=0))
            out[prop.name] = str(composite.ref)
            out[f"{prop.name}_Type"] = composite.type_name
        elif prop.kind == "table":
            out[prop.name] = [_table_row(prop, line) for line in value or []]
        elif prop.edm == "Edm.Int64":
            out[prop.name] = str(value)  # OData v3 JSON writes Int64 as a string
        else:
            out[prop.name] = json_value(value)
        if full and prop.kind == "ref":
            base = prop.name.removesuffix("_Key")
            out[f"{base}@navigationLinkUrl"] = f"{entity_set.name}(guid'{ref}')/{base}"
    for prop in select.presentations if select else ():
        value = found.get(prop.name)
        if isinstance(value, Composite):
            out[prop.presentation_name] = presentation(ib, value.set_name, value.ref)
        else:
            out[prop.presentation_name] = presentation(ib, prop.target, value or EMPTY_REF)
    return out


def json_value(value: Any) -> Any:
    """A typed value as 1C writes it in JSON (dates without a zone, decimals as numbers)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") if value.year >= 1000 else "0001-01-01T00:00:00"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class _Selection:
    def __init__(self, names: set[str], presentations: list[Prop]) -> None:
        self.names = names
        self.presentations = presentations


def _select(entity_set: EntitySet, text: str | None) -> _Selection | None:
    if text is None or text.strip() == "*":
        return None
    names: set[str] = set()
    presentations: list[Prop] = []
    for item in (part.strip() for part in text.split(",")):
        prop = entity_set.prop(item)
        base = entity_set.prop(item.removesuffix("_Type"))
        if prop is not None:
            names.add(item)
        elif item.endswith("_Type") and base is not None and base.kind == "composite":
            names.add(base.name)
        elif item in navigations(entity_set):
            continue  # a navigation property: shown when expanded
        elif item.endswith("____Presentation"):
            stem = item.removesuffix("____Presentation")
            target = entity_set.prop(stem + "_Key") or entity_set.prop(stem)
            if target is None or target.kind not in ("ref", "composite"):
                raise ODataError("14", f"Неизвестное поле {item} в $select")
            presentations.append(target)
        else:
            raise ODataError("14", f"Неизвестное поле {item} в $select")
    return _Selection(names, presentations)


def _table_row(prop: Prop, line: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in prop.columns:
        value = line.get(column.name, "")
        out[column.name] = str(value) if column.name == "LineNumber" else json_value(value)
    return out


def _convert(prop: Prop, value: Any) -> Any:
    try:
        if prop.edm == "Edm.Boolean" and isinstance(value, bool):
            return value
        if prop.edm == "Edm.DateTime" and isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=None)
        if prop.edm == "Edm.String" and isinstance(value, str):
            return value
    except ValueError:
        pass
    raise ODataError("14", f"Неверное значение свойства {prop.name} ({prop.edm})")


def _level() -> str:
    fmt = request.args.get("$format")
    if fmt is not None:
        if fmt == "json":
            return "minimalmetadata"
        if not fmt.startswith("application/json"):
            raise ODataError("14", "Эмулятор отдает данные только в JSON ($format=json)", 415)
        return _level_of(fmt)
    accept = request.headers.get("Accept", "")
    if "application/json" not in accept:
        # Real 1C answers Atom XML here; the emulator speaks JSON only and says so.
        raise ODataError("14", "Эмулятор отдает данные только в JSON: укажите $format=json", 406)
    return _level_of(accept)


def _level_of(media_type: str) -> str:
    for level in LEVELS:
        if f"odata={level}" in media_type:
            return level
    if "odata=" in media_type:
        raise ODataError("14", "Неизвестный уровень метаданных")
    return "minimalmetadata"


def _if_match() -> str | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    return header.strip().removeprefix("W/").strip('"')


def _key(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ODataError("6", f"Неправильный URL: неверный ключ guid'{text}'") from exc


def _natural(args: Any, name: str, default: int | None) -> Any:
    if name not in args:
        return default
    text = args[name]
    if not text.isdigit():
        raise ODataError("14", f"Неверное значение {name}: {text}")
    return int(text)


def _root() -> str:
    return request.host_url.rstrip("/") + current().config.base + ROOT


def _json(body: Any, status: int, level: str = "minimalmetadata") -> Response:
    data = json.dumps(body, ensure_ascii=False)
    return Response(data, status, content_type=f"application/json;odata={level};charset=utf-8")
