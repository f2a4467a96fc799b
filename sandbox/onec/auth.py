"""HTTP Basic as 1C checks it: credentials decoded as UTF-8, 401 with 1C's realm otherwise."""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Response

REALM = 'Basic realm="1C:Enterprise"'


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(login, password) from an Authorization header; None unless valid Basic in UTF-8."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        # A Cyrillic login sent in latin-1/cp1251 is not valid UTF-8: 1C does not know that user.
        return None
    login, separator, password = decoded.partition(":")
    return (login, password) if separator else None


def authorized(header: str | None, login: str, password: str) -> bool:
    """Whether the header carries exactly the publication's credentials."""
    credentials = basic_credentials(header)
    if credentials is None:
        return False
    same_login = hmac.compare_digest(credentials[0].encode(), login.encode())
    return same_login and hmac.compare_digest(credentials[1].encode(), password.encode())


def challenge() -> Response:
    """The 401 answer 1C's web server extension gives."""
    return Response(
        "401 Unauthorized\n",
        401,
        {"WWW-Authenticate": REALM, "Content-Type": "text/plain; charset=utf-8"},
    )
