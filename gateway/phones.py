"""Phone numbers as the gateway compares them: digits only, country code first."""

from __future__ import annotations


def normalize_phone(raw: str) -> str:
    """Digits only; a Russian trunk-prefixed `8XXXXXXXXXX` becomes `7XXXXXXXXXX`.

    "+7 (912) 345-67-89", "8 912 345 67 89" and "79123456789" all give "79123456789".
    A ten-digit Russian number without a country code ("912 345-67-89") gets the 7 added.
    """
    digits = "".join(ch for ch in raw if ch.isascii() and ch.isdigit())
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "7" + digits
    return digits
