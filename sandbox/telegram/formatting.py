"""Turns a method's text and parse_mode into a message's visible text and entities, with limits."""

from __future__ import annotations

import re
from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.html_entities import HtmlError, parse_html, utf16_len

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Characters Telegram trims from both ends of a text or caption before storing it.
TRIMMED = " \t\r\n"
# Entities Telegram finds by itself in any message; nothing is detected inside code or links.
AUTO_ENTITIES = (
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'»]")),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")),
    ("bot_command", re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{4,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
OPAQUE = {"code", "pre", "text_link", "url", "email", "text_mention"}


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None, *, caption: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities of a text or caption; raise Telegram's 400s on bad input."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            visible, found = parse_html(text)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif mode == "":
        visible, found = text, [dict(e) for e in entities or []]
    elif mode in ("markdown", "markdownv2"):
        # The gateway sends HTML; Markdown is not emulated, and silently ignoring it would lie.
        raise bad_request("unsupported parse_mode (the sandbox emulates HTML only)")
    else:
        raise bad_request("unsupported parse_mode")
    visible, found = _trim(visible, found)
    found = sorted([*found, *find_auto_entities(visible, found)], key=_entity_order)
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if utf16_len(visible) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return visible, found


def _entity_order(entity: dict[str, Any]) -> tuple[int, int]:
    return entity["offset"], -entity["length"]


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.strip(TRIMMED)
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(TRIMMED))])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def find_auto_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mentions, commands, URLs, e-mails and hashtags Telegram marks without being asked."""
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in OPAQUE]
    taken: list[tuple[int, int]] = []
    found = []
    for kind, pattern in AUTO_ENTITIES:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group())
            if any(a < end and start < b for a, b in blocked + taken):
                continue
            taken.append((start, end))
            found.append({"offset": start, "length": end - start, "type": kind})
    return found
