"""Phone numbers: Telegram's are international as given; 1C cards' local forms read as Russian."""

import pytest

from gateway.domain.phones import international_phone, masked_phone, normalize_phone, same_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+7 (912) 345-67-89", "79123456789"),
        ("8 912 345 67 89", "79123456789"),
        ("8 (4912) 34-56-78", "74912345678"),
        ("79123456789", "79123456789"),
        ("912 345-67-89", "79123456789"),
        ("343 210-00-01", "73432100001"),
        ("+8 912 345 67 89", "79123456789"),  # no country code starts with 89
        ("+375 29 123-45-67", "375291234567"),
        ("+84 91 234 56 78", "84912345678"),  # written international: kept
        ("+7 ９１２", "7"),  # full-width digits are not phone digits
        ("", ""),
    ],
)
def test_1c_card_phones_are_read_as_russian_unless_written_international(
    raw: str, expected: str
) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+79123456789", "79123456789"),
        ("79123456789", "79123456789"),
        ("84912345678", "84912345678"),  # Vietnam, not a Russian 8…
        ("9591234567", "9591234567"),  # Myanmar, not ten Russian digits
        ("+44 20 7946 0018", "442079460018"),
        ("919123456789", "919123456789"),  # India
    ],
)
def test_telegram_numbers_are_taken_as_international_digits(raw: str, expected: str) -> None:
    assert international_phone(raw) == expected


@pytest.mark.parametrize(
    ("telegram", "card"),
    [
        ("84912345678", "8 (4912) 34-56-78"),
        ("9591234567", "959 123-45-67"),
        ("9123456789", "+7 (912) 345-67-89"),
        ("919123456789", "+7 (912) 345-67-89"),
    ],
)
def test_a_foreign_number_never_matches_the_russian_card_it_resembles(
    telegram: str, card: str
) -> None:
    assert not same_phone(international_phone(telegram), (normalize_phone(card),))


def test_the_same_international_number_matches() -> None:
    assert same_phone(international_phone("+7 912 345 67 89"), ("79123456789",))
    assert not same_phone("", ("",))


def test_a_masked_phone_keeps_only_the_country_digit_and_the_last_two() -> None:
    assert masked_phone("79127008090") == "+7••••••••90"
