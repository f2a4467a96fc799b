"""Which 1C infobase a task, a card or a decision belongs to, when one bot serves several."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

NAME_RE: Final = re.compile(r"^[a-z][a-z0-9]{0,9}$")
"""A base's name in ONEC_BASES: short (it travels in every button's callback data)."""


@dataclass(frozen=True, slots=True)
class Infobase:
    """One infobase the gateway serves: its name in ONEC_BASES and the title approvers read.

    A single-base configuration (no ONEC_BASES) has one Infobase with an empty name and title:
    its Redis keys, callback data and texts are exactly those of a gateway that knows no bases.
    """

    name: str = ""
    title: str = ""

    @property
    def named(self) -> bool:
        """True when the gateway serves several bases and this one must be told apart."""
        return bool(self.name)
