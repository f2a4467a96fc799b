"""Pushes from 1C (design 5.4): HMAC-SHA256 over "<timestamp>.<body>" with ONEC_PUSH_SECRET,
accepted only within five minutes of the gateway's clock, either way, and only once.

The push key is the only key 1C holds; GATEWAY_SECRET, which signs the buttons, never verifies a
push, so a 1C administrator who reads the key cannot forge a button press. With no push key set,
every push is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final

WINDOW_SECONDS: Final = 300
SIGNATURE_PREFIX: Final = "sha256="


class PushRejected(ValueError):
    """A push that is not signed by our 1C, too old, too new, or malformed."""


@dataclass(frozen=True, slots=True)
class Push:
    """A verified push: the task ids its events name, and the signature (to refuse replays)."""

    task_ids: list[str]
    events: int
    signature: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Gateway-Signature value for `body` sent at `timestamp` (unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    *,
    setting: str = "ONEC_PUSH_SECRET",
) -> Push:
    """Check the headers against the body; PushRejected says what is wrong.

    An empty `secret` means pushes are off: every push is rejected, signed or not; the reason
    names `setting`, the variable that holds the key (a base's own with several bases).
    """
    if not secret:
        raise PushRejected(f"pushes are off: {setting} is not set")
    if not timestamp or not signature:
        raise PushRejected("missing X-Gateway-Timestamp or X-Gateway-Signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise PushRejected("X-Gateway-Timestamp is not unix seconds") from None
    if abs(now - sent_at) > WINDOW_SECONDS:
        raise PushRejected("timestamp outside the 5-minute window")
    expected = sign(secret, sent_at, body)
    if not hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    ):
        raise PushRejected("bad signature")
    try:
        data = json.loads(body.decode("utf-8"))
        events = data["events"]
        if not isinstance(events, list):
            raise TypeError("events is not a list")
        ids = [str(e["task_id"]) for e in events if isinstance(e, dict) and e.get("task_id")]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise PushRejected(f'body is not {{"events": [...]}}: {exc}') from None
    return Push(task_ids=list(dict.fromkeys(ids)), events=len(events), signature=expected)
