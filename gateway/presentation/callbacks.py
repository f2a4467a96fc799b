"""Signed callback data for the decision buttons (Telegram allows at most 64 bytes).

`<action>:<task>:<version tag>:<signature>`: the task id as 22 base64url characters of its GUID,
a short tag of the task version the card showed (so a press on an outdated card is caught), and
an HMAC-SHA256 with GATEWAY_SECRET over all of it and the chat id, so data copied to another
chat, or made up, is refused.

When one bot serves several infobases (ONEC_BASES), a card of base `uh` carries the base's name
before the signature, `<action>:<task>:<version tag>:uh:<signature>`, covered by the signature:
the press goes to the base the task came from, and the same task id in two bases never mixes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Final

from gateway.domain.infobases import NAME_RE
from gateway.domain.tasks import Decision

MAX_CALLBACK_DATA_BYTES: Final = 64
SIGNATURE_CHARS: Final = 16  # 96 bits: forging one takes ~2^96 tries
VERSION_TAG_CHARS: Final = 6

_ACTIONS: Final = {
    Decision.APPROVE: "a",
    Decision.RETURN_PREVIOUS: "p",
    Decision.RETURN_INITIATOR: "i",
}
_DECISIONS: Final = {code: decision for decision, code in _ACTIONS.items()}


class InvalidCallback(ValueError):
    """Callback data that is malformed or whose signature does not match."""


@dataclass(frozen=True, slots=True)
class Press:
    """What a verified button press asks for."""

    decision: Decision
    task_id: str
    version_tag: str
    base: str = ""  # the infobase's name in ONEC_BASES; empty for a single base


def version_tag(version: str) -> str:
    """A short digest of a task version, to tell an outdated card."""
    digest = hashlib.sha256(version.encode("utf-8")).digest()
    return _b64(digest)[:VERSION_TAG_CHARS]


def sign(
    secret: str, chat_id: int, decision: Decision, task_id: str, version: str, base: str = ""
) -> str:
    """Callback data for a decision button on the card sent to `chat_id` (of infobase `base`,
    empty for a single base)."""
    body = f"{_ACTIONS[decision]}:{_pack_id(task_id)}:{version_tag(version)}"
    if base:
        if not NAME_RE.match(base):
            raise ValueError(f"not a base name: {base!r}")
        body = f"{body}:{base}"
    data = f"{body}:{_signature(secret, chat_id, body)}"
    if len(data.encode("ascii")) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_DATA_BYTES} bytes for task {task_id}")
    return data


def verify(secret: str, chat_id: int, data: str) -> Press:
    """The press `data` stands for, if it was signed by us for this chat; else InvalidCallback."""
    body, _, signature = data.rpartition(":")
    parts = body.split(":")
    if len(parts) not in (3, 4) or parts[0] not in _DECISIONS:
        raise InvalidCallback("malformed callback data")
    base = parts[3] if len(parts) == 4 else ""
    if len(parts) == 4 and not NAME_RE.match(base):
        raise InvalidCallback("malformed base name")
    expected = _signature(secret, chat_id, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        raise InvalidCallback("bad signature")
    return Press(
        decision=_DECISIONS[parts[0]],
        task_id=_unpack_id(parts[1]),
        version_tag=parts[2],
        base=base,
    )


def base_of(data: str) -> str:
    """The base a press names, read WITHOUT checking the signature: for routing it to the base
    whose context then verifies it; empty for single-base data or anything malformed."""
    parts = data.split(":")
    return parts[3] if len(parts) == 5 and NAME_RE.match(parts[3]) else ""


def _signature(secret: str, chat_id: int, body: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{chat_id}|{body}".encode("ascii"), hashlib.sha256)
    return _b64(mac.digest())[:SIGNATURE_CHARS]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _pack_id(task_id: str) -> str:
    # 1C references are GUIDs; other ids go as base64url text if they fit.
    try:
        return _b64(uuid.UUID(task_id).bytes)
    except ValueError:
        return "~" + _b64(task_id.encode("utf-8"))


def _unpack_id(packed: str) -> str:
    try:
        if packed.startswith("~"):
            raw = packed[1:]
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
        return str(uuid.UUID(bytes=base64.urlsafe_b64decode(packed + "==")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCallback("malformed task id") from exc
