"""Masking secrets in text on its way to a log line, a status page or a terminal.

A secret is found not only as itself but in the forms it takes when code passes it on:
percent-encoded in a URL (any mix of encoded and plain characters, `+` for a space), escaped by
`json.dumps` or `repr`, and base64-encoded (HTTP Basic's `user:password`, or the value alone at any
alignment inside a longer base64 text). Whatever their value, the credentials of an
`Authorization` header, the password of a `scheme://user:password@host` URL and anything shaped
like a bot token are masked too, so a secret the settings do not know (a proxy's password) does
not show either.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Final

MASK: Final = "***"
# Shorter base64 runs would match ordinary words; 8 characters carry 6 bytes of the secret.
MIN_BASE64_FRAGMENT: Final = 8

_SHAPES: Final = (
    (re.compile(r"(?<![0-9])\d{3,}:[A-Za-z0-9_-]{30,}"), MASK),
    (
        re.compile(
            r"(authorization['\"]?\s*[:=]\s*['\"]?(?:Basic|Bearer|Digest)\s+)[^\s'\",;]+",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@"), rf"\1{MASK}@"),
)


def _hex(value: int, digits: int) -> str:
    """`value` in hex digits of either case, as a regular expression."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{digits}x}")


def _char_forms(char: str) -> list[str]:
    """Regular expressions for the ways one character of a secret can be written."""
    data = char.encode("utf-8")
    forms = [re.escape(char), "".join("%" + _hex(byte, 2) for byte in data)]
    if char == " ":
        forms.append(r"\+")
    if char in "\\\"'/":
        forms.append(re.escape("\\" + char))  # json.dumps and repr escape these
    if len(data) > 1:
        forms.append(r"\\u" + _hex(ord(char), 4) if ord(char) <= 0xFFFF else re.escape(char))
        forms.append("".join(r"\\x" + _hex(byte, 2) for byte in data))
    return forms


def _written_forms(secret: str) -> re.Pattern[str]:
    """One pattern for the secret written plainly, percent-encoded or escaped, char by char."""
    parts = []
    for char in secret:
        forms = _char_forms(char)
        parts.append(forms[0] if len(forms) == 1 else "(?:" + "|".join(forms) + ")")
    return re.compile("".join(parts))


def _base64_fragments(secret: str) -> set[str]:
    """The base64 text that only the secret's bytes determine, at each of the three alignments
    the secret can have inside a longer base64-encoded text (standard and URL-safe alphabets)."""
    data = secret.encode("utf-8")
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first_group = 1 if offset else 0
        full_groups = (offset + len(data)) // 3
        fragment = encoded[first_group * 4 : full_groups * 4]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            fragments.add(fragment)
            fragments.add(fragment.replace("+", "-").replace("/", "_"))
    return fragments


class SecretMask:
    """Masks a fixed set of secret values, in every form above, and credential shapes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._patterns = [_written_forms(value) for value in values]
        fragments = sorted({f for v in values for f in _base64_fragments(v)}, key=len, reverse=True)
        self._base64 = re.compile("|".join(map(re.escape, fragments))) if fragments else None

    def __call__(self, text: str) -> str:
        """`text` with every secret, in any of its forms, replaced by `***`."""
        for pattern in self._patterns:
            text = pattern.sub(MASK, text)
        if self._base64 is not None:
            text = self._base64.sub(MASK, text)
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
        return text
