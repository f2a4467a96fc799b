"""Contract v1 as data: loads `adapters/onec/contract/openapi.yaml` and checks values against it."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "adapters" / "onec" / "contract"
OPENAPI_PATH = CONTRACT_DIR / "openapi.yaml"
WSDL_PATH = CONTRACT_DIR / "approvals.wsdl"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


class InvalidParameter(ValueError):
    """A query parameter the contract does not allow."""


@functools.cache
def spec() -> dict[str, Any]:
    """The parsed OpenAPI document."""
    with OPENAPI_PATH.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.safe_load(stream)
    return loaded


def schema(name: str) -> dict[str, Any]:
    """A named schema of `components/schemas`."""
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def errors(instance: Any, node: Mapping[str, Any], where: str = "$") -> list[str]:
    """Why an instance does not match a schema (the JSON Schema subset the contract uses)."""
    if "$ref" in node:
        return errors(instance, _resolve(node["$ref"]), where)
    if "anyOf" in node:
        options = [errors(instance, option, where) for option in node["anyOf"]]
        return [] if any(not found for found in options) else [f"{where}: matches no anyOf option"]
    problems: list[str] = []
    if "type" in node:
        allowed = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_is_type(instance, name) for name in allowed):
            return [f"{where}: expected {' or '.join(allowed)}, got {type(instance).__name__}"]
    if "const" in node and instance != node["const"]:
        problems.append(f"{where}: must be {node['const']!r}")
    if "enum" in node and instance not in node["enum"]:
        problems.append(f"{where}: {instance!r} not in {node['enum']}")
    if isinstance(instance, str):
        problems += _string_errors(instance, node, where)
    if isinstance(instance, int) and not isinstance(instance, bool):
        if "minimum" in node and instance < node["minimum"]:
            problems.append(f"{where}: below {node['minimum']}")
        if "maximum" in node and instance > node["maximum"]:
            problems.append(f"{where}: above {node['maximum']}")
    if isinstance(instance, dict):
        properties = node.get("properties", {})
        for name in node.get("required", []):
            if name not in instance:
                problems.append(f"{where}: missing {name!r}")
        for name, value in instance.items():
            if name in properties:
                problems += errors(value, properties[name], f"{where}.{name}")
            elif node.get("additionalProperties") is False:
                problems.append(f"{where}: unexpected {name!r}")
    if isinstance(instance, list) and "items" in node:
        for index, item in enumerate(instance):
            problems += errors(item, node["items"], f"{where}[{index}]")
    return problems


def query_parameters(path: str, method: str, args: Mapping[str, str]) -> dict[str, Any]:
    """The operation's query parameters, typed and defaulted; InvalidParameter when bad."""
    operation = spec()["paths"][path][method.lower()]
    values: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        name, node = parameter["name"], parameter["schema"]
        if name not in args:
            if parameter.get("required"):
                raise InvalidParameter(f"{name} is required")
            values[name] = node.get("default")
            continue
        text = args[name]
        value: Any = text
        if node.get("type") == "integer":
            if not re.fullmatch(r"-?\d+", text):
                raise InvalidParameter(f"{name} must be an integer")
            value = int(text)
        problems = errors(value, node, name)
        if problems:
            raise InvalidParameter("; ".join(problems))
        values[name] = value
    return values


def _resolve(reference: str) -> dict[str, Any]:
    node: Any = spec()
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved


def _is_type(instance: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if name == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    return isinstance(instance, _TYPES[name])


def _string_errors(instance: str, node: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    if "minLength" in node and len(instance) < node["minLength"]:
        problems.append(f"{where}: shorter than {node['minLength']}")
    if "maxLength" in node and len(instance) > node["maxLength"]:
        problems.append(f"{where}: longer than {node['maxLength']}")
    fmt = node.get("format")
    if fmt == "uuid":
        try:
            uuid.UUID(instance)
        except ValueError:
            problems.append(f"{where}: not a uuid")
    elif fmt == "date-time":
        if not _DATE_TIME.match(instance):
            problems.append(f"{where}: not an RFC 3339 date-time with an offset")
        else:
            datetime.fromisoformat(instance.replace("Z", "+00:00"))
    return problems
