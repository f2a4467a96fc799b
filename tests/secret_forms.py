"""The forms a secret takes when code passes it on: what a log must show in none of them."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus


def written_forms(secret: str) -> dict[str, str]:
    """Each form by name: plain, in URLs, in JSON and reprs, in base64."""
    raw = secret.encode()
    return {
        "plain": secret,
        "percent-encoded": quote(secret, safe=""),
        "percent-encoded, lower-case hex": re.sub(
            r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote(secret, safe="")
        ),
        "plus for space": quote_plus(secret),
        "json": json.dumps(secret),
        "json, ascii": json.dumps(secret, ensure_ascii=True),
        "repr of bytes": repr(raw),
        "base64": base64.b64encode(raw).decode(),
        "base64 inside a longer text": base64.b64encode(b"k=" + raw + b";").decode(),
        "url-safe base64": base64.urlsafe_b64encode(b"x" + raw).decode(),
    }


def basic_auth(user: str, password: str) -> str:
    """The value of an HTTP Basic Authorization header, UTF-8 as 1C reads it."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """`what (form)` for every form of every secret found in `text`."""
    return [
        f"{what} ({name})"
        for what, secret in secrets.items()
        for name, form in written_forms(secret).items()
        if form in text
    ]
