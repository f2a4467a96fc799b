"""Phone numbers as the gateway compares them: international digits, country code first.

Two sources, two rules. Telegram gives a contact's number in international form already, so it
is taken as it is (`international_phone`): reading Russian local rules into it would turn a
foreign number whose digits look like a Russian local form into a Russian subscriber's number.
Numbers typed into 1C user cards may be written locally, and those are read as Russian
(`normalize_phone`).
"""

from __future__ import annotations

from typing import Final

RUSSIA: Final = "7"
RUSSIAN_NATIONAL_DIGITS: Final = 10
# No country code starts with 89, so "+8 9…" in a card is a Russian mobile with the trunk prefix.
NO_COUNTRY_PREFIX: Final = "89"


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isascii() and ch.isdigit())


def international_phone(raw: str) -> str:
    """A number that is international already (a Telegram contact's): its digits, nothing else.

    "+44 20 7946 0018" gives "442079460018"; "84912345678" stays "84912345678" (Vietnam), it is
    never read as a Russian `8…`.
    """
    return _digits(raw)


def normalize_phone(raw: str) -> str:
    """A number from a 1C user card: digits with the country code, local forms read as Russian.

    "+7 (912) 345-67-89", "8 912 345 67 89", "79123456789" and "912 345-67-89" all give
    "79123456789". A number written with a leading "+" is international and kept as written
    ("+84 912 345 678" gives "84912345678"), except the common "+8 9…" for a Russian mobile.
    """
    text = raw.strip()
    digits = _digits(text)
    national = len(digits) == RUSSIAN_NATIONAL_DIGITS + 1 and digits.startswith("8")
    if text.startswith("+") and not (national and digits.startswith(NO_COUNTRY_PREFIX)):
        return digits
    if national:
        return RUSSIA + digits[1:]
    if len(digits) == RUSSIAN_NATIONAL_DIGITS:
        return RUSSIA + digits
    return digits


def same_phone(telegram_phone: str, card_phones: tuple[str, ...]) -> bool:
    """True when `telegram_phone` (international digits) is one of a 1C user's card phones
    (already read by `normalize_phone`): the very same number, nothing looser."""
    return bool(telegram_phone) and telegram_phone in card_phones


def masked_phone(digits: str) -> str:
    """Like "+7•••••••89": enough for an admin to tell two numbers apart, not enough to dial."""
    if len(digits) <= 4:
        return "+" + "•" * len(digits)
    return "+" + digits[0] + "•" * (len(digits) - 3) + digits[-2:]
