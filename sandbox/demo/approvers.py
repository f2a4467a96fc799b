"""The demo's approvers: Telegram accounts for seeded 1C users, with the phones 1C knows.

With several infobases one person may be a 1C user in each (other ids, other names): the
Telegram account is one, found in every base by its phone, as the gateway links it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sandbox.onec.client import OneCSandbox
from sandbox.telegram.client import TelegramSandbox

# Surnames of seeded 1C users who can connect, per seed (the УХ's Сидоровы share a phone,
# Кузнецова and Лебедев are invalid); Морозов is in both УХ and ERP, Никитин in ERP only.
APPROVER_SURNAMES: Final = ("Морозов", "Волков", "Петрова", "Иванов")
APPROVERS_BY_SEED: Final = {"uh": APPROVER_SURNAMES, "erp": ("Морозов", "Никитин")}
# Who starts the page's approvals in each seed; he gets returned documents back for rework.
INITIATOR_SURNAME: Final = "Иванов"
INITIATORS_BY_SEED: Final = {"uh": INITIATOR_SURNAME, "erp": "Соколова"}
FIRST_TELEGRAM_ID: Final = 1001


@dataclass(frozen=True)
class Approver:
    """A Telegram user of the emulator standing for one 1C user (in each base: `onec_ids`)."""

    telegram_id: int
    onec_id: str
    name: str
    phone: str
    onec_ids: dict[str, str] = field(default_factory=dict)  # base name → 1C user id there

    def as_json(self) -> dict[str, Any]:
        """The shape the page reads."""
        return {
            "telegram_id": self.telegram_id,
            "onec_id": self.onec_id,
            "onec_ids": self.onec_ids,
            "name": self.name,
            "phone": self.phone,
        }


def plain_phone(presentation: str) -> str:
    """ "+7 (912) 700-80-90" → "+79127008090": what a Telegram client shares."""
    return "+" + re.sub(r"\D", "", presentation)


def seed(
    telegram: TelegramSandbox, onec: OneCSandbox | Mapping[str, OneCSandbox]
) -> list[Approver]:
    """Create (or update) the demo's Telegram users: the first base's approvers in
    APPROVERS_BY_SEED order, then those found only in a later base. A single emulator is the
    base named ""."""
    bases = {"": onec} if isinstance(onec, OneCSandbox) else dict(onec)
    found: dict[str, dict[str, Any]] = {}  # phone → the first 1C user with it
    ids: dict[str, dict[str, str]] = {}  # phone → base name → 1C user id
    for name, client in bases.items():
        surnames = APPROVERS_BY_SEED.get(client.infobase()["seed"], APPROVER_SURNAMES)
        for surname in surnames:
            user = client.user(surname)
            phone = plain_phone(user["phones"][0])
            found.setdefault(phone, user)
            ids.setdefault(phone, {})[name] = str(user["id"])
        # Someone who is not among a base's approvers may still be a 1C user there by phone.
        for user in client.users():
            phone = plain_phone(user["phones"][0]) if user["phones"] else ""
            if phone in ids and name not in ids[phone] and not user["invalid"]:
                ids[phone][name] = str(user["id"])
    approvers = []
    for offset, (phone, user) in enumerate(found.items()):
        parts = str(user["name"]).split()
        approver = Approver(
            telegram_id=FIRST_TELEGRAM_ID + offset,
            onec_id=str(user["id"]),
            name=str(user["name"]),
            phone=phone,
            onec_ids=ids[phone],
        )
        telegram.create_user(
            approver.telegram_id,
            first_name=parts[1] if len(parts) > 1 else parts[0],
            last_name=parts[0],
            phone=approver.phone,
            language_code="ru",
        )
        approvers.append(approver)
    return approvers
