"""Telegram's HTML parse mode: the allowed tags and entities, to visible text plus MessageEntity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Tag → entity type, as listed under "HTML style" in the Bot API documentation.
ENTITY_BY_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_REFERENCE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
ATTRIBUTE_NAME = re.compile(r"[a-zA-Z0-9_-]+")
UNQUOTED_VALUE = re.compile(r"[^\s>]*")


class HtmlError(ValueError):
    """Text Telegram refuses with "can't parse entities: <reason>"."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and length limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the visible text
    attributes: dict[str, str] = field(default_factory=dict)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Split HTML into visible text and entities (UTF-16 offsets); raise HtmlError like Telegram.

    Stricter than Telegram in one respect: a `&` that starts no entity is refused, because the
    documentation requires escaping it and a gateway that forgets to will break on other inputs.
    """
    out: list[str] = []
    position = 0  # UTF-16 length of `out`
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            match = ENTITY_REFERENCE.match(source, i)
            if match is None:
                raise HtmlError(f'Unescaped "&" at byte offset {_byte_offset(source, i)}')
            decoded = _decode_reference(match)
            out.append(decoded)
            position += utf16_len(decoded)
            i = match.end()
        elif char == "<" and source.startswith("</", i):
            i = _close_tag(source, i, stack, entities, position)
        elif char == "<":
            opened, i = _open_tag(source, i)
            opened.start = position
            stack.append(opened)
        else:
            out.append(char)
            position += utf16_len(char)
            i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_reference(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if name:
        return NAMED_ENTITIES[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    # Telegram drops references to nothing printable (NUL, surrogates, beyond Unicode).
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return ""
    return chr(code)


def _open_tag(source: str, begin: int) -> tuple[_Open, int]:
    name_match = TAG_NAME.match(source, begin + 1)
    assert name_match is not None  # the pattern matches the empty string
    name = name_match.group().lower()
    i = name_match.end()
    if i >= len(source):
        raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    if name not in ENTITY_BY_TAG:
        raise HtmlError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}'
        )
    attributes: dict[str, str] = {}
    while True:
        while i < len(source) and source[i].isspace():
            i += 1
        if i >= len(source):
            raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        if source[i] == ">":
            break
        attribute = ATTRIBUTE_NAME.match(source, i)
        if attribute is None:
            raise HtmlError(
                f'Empty attribute name in the tag "{name}" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        key, i = attribute.group().lower(), attribute.end()
        value = ""
        if i < len(source) and source[i] == "=":
            value, i = _attribute_value(source, i + 1, begin)
        attributes[key] = value
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise HtmlError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, begin)}'
        )
    return _Open(name, 0, attributes), i + 1


def _attribute_value(source: str, i: int, begin: int) -> tuple[str, int]:
    if i < len(source) and source[i] in "\"'":
        end = source.find(source[i], i + 1)
        if end < 0:
            raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        raw, i = source[i + 1 : end], end + 1
    else:
        match = UNQUOTED_VALUE.match(source, i)
        assert match is not None
        raw, i = match.group(), match.end()
    return ENTITY_REFERENCE.sub(_decode_reference, raw), i


def _close_tag(
    source: str, begin: int, stack: list[_Open], entities: list[dict[str, Any]], position: int
) -> int:
    end = source.find(">", begin)
    if end < 0:
        raise HtmlError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
    name = source[begin + 2 : end].strip().lower()
    if not stack:
        raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
    opened = stack.pop()
    if name != opened.tag:
        raise HtmlError(
            f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
            f'expected "</{opened.tag}>", found "</{name}>"'
        )
    entity = _entity(opened, position - opened.start, stack)
    if entity is not None:
        entities.append(entity)
    return end + 1


def _entity(opened: _Open, length: int, outer: list[_Open]) -> dict[str, Any] | None:
    if length <= 0:
        return None  # Telegram drops empty entities
    entity: dict[str, Any] = {"offset": opened.start, "length": length}
    kind = ENTITY_BY_TAG[opened.tag]
    if opened.tag == "a":
        href = opened.attributes.get("href", "")
        if not href:
            return None
        if href.startswith("tg://user?id=") and href[13:].isdigit():
            return {**entity, "type": "text_mention", "user": {"id": int(href[13:])}}
        if "://" not in href and not href.startswith(("tg:", "mailto:")):
            href = f"http://{href}"
        return {**entity, "type": "text_link", "url": href}
    if opened.tag == "code" and outer and outer[-1].tag == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        language = opened.attributes.get("class", "").removeprefix("language-")
        if language:
            outer[-1].attributes["language"] = language
        return None
    if opened.tag == "pre" and opened.attributes.get("language"):
        return {**entity, "type": "pre", "language": opened.attributes["language"]}
    if opened.tag == "tg-emoji":
        return {**entity, "type": kind, "custom_emoji_id": opened.attributes.get("emoji-id", "")}
    if opened.tag == "blockquote" and "expandable" in opened.attributes:
        return {**entity, "type": "expandable_blockquote"}
    return {**entity, "type": kind}
