"""Checks Bot API parameters against the published description (api.json): presence and types."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.telegram.errors import bad_request

API_JSON = Path(__file__).with_name("api.json")

# Telegram's own texts for a missing parameter, where known; others get the generic one below.
MISSING_TEXTS = {
    ("sendMessage", "text"): "message text is empty",
    ("sendDocument", "document"): "there is no document in the request",
    ("deleteMessage", "message_id"): "message identifier is not specified",
    ("answerCallbackQuery", "callback_query_id"): (
        "query is too old and response timeout expired or query ID is invalid"
    ),
    ("sendChatAction", "action"): "wrong parameter action in request",
    ("getFile", "file_id"): "invalid file_id",
}
MISSING_TEXTS_BY_FIELD = {
    "chat_id": "chat_id is empty",
    "message_id": "message identifier is not specified",
    "text": "message text is empty",
}

# Parameters Telegram dropped from its documentation but still honours; PTB and older clients send
# them, so refusing them would be less faithful than accepting them.
LEGACY_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "sendMessage": {
        "reply_to_message_id": ("Integer",),
        "allow_sending_without_reply": ("Boolean",),
        "disable_web_page_preview": ("Boolean",),
    },
    "sendDocument": {
        "reply_to_message_id": ("Integer",),
        "allow_sending_without_reply": ("Boolean",),
    },
    "editMessageText": {"disable_web_page_preview": ("Boolean",)},
}

# api.json marks these required, yet Telegram accepts them absent (an empty `url` removes the
# webhook).
OPTIONAL_IN_PRACTICE = {("setWebhook", "url")}

SCALARS = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}
INTEGER = re.compile(r"-?\d+")
TRUE_WORDS = {"true", "1"}
FALSE_WORDS = {"false", "0"}


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart part."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Field:
    """One parameter of a method or one field of a type, as api.json lists it."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""


class Invalid(Exception):
    """A value that does not fit its declared type; the message says where and why."""


class ApiSpec:
    """The methods and types of one api.json, and the checks derived from them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "")
        self.methods = {name: _fields(m) for name, m in data["methods"].items()}
        self.types = {name: _fields(t) for name, t in data["types"].items()}
        self.subtypes: dict[str, list[str]] = {
            name: list(t["subtypes"]) for name, t in data["types"].items() if t.get("subtypes")
        }

    @classmethod
    def load(cls, path: Path = API_JSON) -> ApiSpec:
        """Read an api.json file."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def accepted_fields(self, method: str) -> dict[str, Field]:
        """Every parameter the method takes: api.json's, then the legacy ones still honoured."""
        fields = {f.name: f for f in self.methods[method]}
        for name, types in LEGACY_FIELDS.get(method, {}).items():
            fields.setdefault(name, Field(name, types, required=False))
        return fields

    def parse(
        self, method: str, raw: Mapping[str, Any], files: Mapping[str, Upload]
    ) -> tuple[dict[str, Any], list[str]]:
        """Check and convert a request's parameters; answers (params, names that were ignored).

        Like Telegram, an empty string counts as absent and unknown parameters are ignored.
        """
        params: dict[str, Any] = {}
        fields = self.accepted_fields(method)
        for field in fields.values():
            value: Any = files.get(field.name, raw.get(field.name))
            if value is None or value == "":
                if field.required and (method, field.name) not in OPTIONAL_IN_PRACTICE:
                    default = MISSING_TEXTS_BY_FIELD.get(
                        field.name, f'parameter "{field.name}" is required'
                    )
                    raise bad_request(MISSING_TEXTS.get((method, field.name), default))
                continue
            try:
                params[field.name] = self._top_level(field, value, files)
            except Invalid as exc:
                raise bad_request(str(exc)) from exc
        ignored = sorted(name for name in {*raw, *files} if name not in fields)
        return params, ignored

    def _top_level(self, field: Field, value: Any, files: Mapping[str, Upload]) -> Any:
        if isinstance(value, Upload):
            if "InputFile" in field.types:
                return value
            raise Invalid(f'field "{field.name}" must be of type {" or ".join(field.types)}')
        if isinstance(value, str) and value.startswith("attach://") and "InputFile" in field.types:
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise Invalid(f'file "{value}" of field "{field.name}" is not in the request')
            return attached
        structured = [t for t in field.types if t not in SCALARS]
        if structured and isinstance(value, str) and value[:1] in ("{", "["):
            # Form and multipart bodies carry objects and arrays as JSON strings, as in Telegram.
            try:
                value = json.loads(value)
            except ValueError:
                raise Invalid(f"can't parse {field.name} JSON object") from None
        elif structured and isinstance(value, str) and not set(field.types) & SCALARS:
            raise Invalid(f"can't parse {field.name} JSON object")
        return self.convert(field.types, value, field.name)

    def convert(self, types: tuple[str, ...], value: Any, path: str) -> Any:
        """Convert `value` to the first of `types` it fits, or raise Invalid."""
        errors: dict[str, Invalid] = {}
        for type_name in types:
            try:
                return self._convert_one(type_name, value, path)
            except Invalid as exc:
                if len(types) == 1:
                    raise
                errors[type_name] = exc
        closest = self._closest_type(types, value)
        if closest is not None:
            # Report why the object failed as the type it was meant to be (an inline keyboard
            # with a bad button), not only that it matched none of the alternatives.
            raise errors[closest]
        raise Invalid(f'field "{path}" must be of type {" or ".join(types)}')

    def _closest_type(self, types: tuple[str, ...], value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        overlap = {
            t: len({f.name for f in self.types.get(t, ())} & set(value))
            for t in types
            if t in self.types
        }
        best = max(overlap, key=lambda t: overlap[t], default=None)
        return best if best is not None and overlap[best] > 0 else None

    def _convert_one(self, type_name: str, value: Any, path: str) -> Any:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise Invalid(f'field "{path}" must be of type {type_name}')
            inner = (type_name.removeprefix("Array of "),)
            return [self.convert(inner, item, f"{path}[{i}]") for i, item in enumerate(value)]
        converter = _SCALAR_CONVERTERS.get(type_name)
        if converter is not None:
            converted = converter(value)
            if converted is None:
                raise Invalid(f'field "{path}" must be of type {type_name}')
            return converted
        return self._object(type_name, value, path)

    def _object(self, type_name: str, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(f'field "{path}" must be of type {type_name}')
        if type_name in self.subtypes:
            return self._object(self._pick_subtype(type_name, value, path), value, path)
        fields = self.types.get(type_name)
        if fields is None:
            return value
        result = dict(value)  # fields the type does not list are kept, as Telegram ignores them
        for field in fields:
            item = value.get(field.name)
            if item is None:
                if field.required:
                    raise Invalid(f'can\'t find field "{field.name}" in {type_name} at "{path}"')
                continue
            result[field.name] = self.convert(field.types, item, f"{path}.{field.name}")
        return result

    def _pick_subtype(self, type_name: str, value: dict[str, Any], path: str) -> str:
        """An abstract type (BotCommandScope...) is told apart by its `type` or `source` field."""
        for subtype in self.subtypes[type_name]:
            for field in self.types.get(subtype, ()):
                match = re.search(r"must be ([\w-]+)", field.description)
                if field.required and match and value.get(field.name) == match.group(1):
                    return subtype
        raise Invalid(f'unsupported {type_name} at "{path}"')


def _fields(entry: Mapping[str, Any]) -> tuple[Field, ...]:
    return tuple(
        Field(f["name"], tuple(f["types"]), bool(f["required"]), f.get("description", ""))
        for f in entry.get("fields", [])
    )


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str | int) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _string(value: Any) -> str | None:
    # Telegram takes a JSON number where a string is expected (ids sent as numbers), not objects.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _no_file(value: Any) -> None:
    return None


_SCALAR_CONVERTERS = {
    "Integer": _integer,
    "Float": _float,
    "Boolean": _boolean,
    "True": _boolean,
    "String": _string,
    "InputFile": _no_file,
}


@cache
def default_spec() -> ApiSpec:
    """The api.json shipped with the sandbox, read once."""
    return ApiSpec.load()
