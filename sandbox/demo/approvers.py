"""The demo's approvers: Telegram accounts for seeded 1C users, with the phones 1C knows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from sandbox.onec.client import OneCSandbox
from sandbox.telegram.client import TelegramSandbox

# Surnames of seeded 1C users who can connect (the Сидоровы share a phone, Кузнецова and Лебедев
# are invalid); Иванов is the initiator, who gets returned documents back for rework.
APPROVER_SURNAMES: Final = ("Морозов", "Волков", "Петрова", "Иванов")
INITIATOR_SURNAME: Final = "Иванов"
FIRST_TELEGRAM_ID: Final = 1001


@dataclass(frozen=True)
class Approver:
    """A Telegram user of the emulator standing for one 1C user."""

    telegram_id: int
    onec_id: str
    name: str
    phone: str

    def as_json(self) -> dict[str, Any]:
        """The shape the page reads."""
        return {
            "telegram_id": self.telegram_id,
            "onec_id": self.onec_id,
            "name": self.name,
            "phone": self.phone,
        }


def plain_phone(presentation: str) -> str:
    """ "+7 (912) 700-80-90" → "+79127008090": what a Telegram client shares."""
    return "+" + re.sub(r"\D", "", presentation)


def seed(telegram: TelegramSandbox, onec: OneCSandbox) -> list[Approver]:
    """Create (or update) the demo's Telegram users, in APPROVER_SURNAMES order."""
    approvers = []
    for offset, surname in enumerate(APPROVER_SURNAMES):
        user = onec.user(surname)
        parts = str(user["name"]).split()
        approver = Approver(
            telegram_id=FIRST_TELEGRAM_ID + offset,
            onec_id=str(user["id"]),
            name=str(user["name"]),
            phone=plain_phone(user["phones"][0]),
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
