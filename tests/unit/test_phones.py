"""Phone numbers are compared as digits with the country code first."""

import pytest

from gateway.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+7 (912) 345-67-89", "79123456789"),
        ("8 912 345 67 89", "79123456789"),
        ("79123456789", "79123456789"),
        ("912 345-67-89", "79123456789"),
        ("+375 29 123-45-67", "375291234567"),
        ("+7 ９１２", "7"),  # full-width digits are not phone digits
        ("", ""),
    ],
)
def test_phones_are_normalized_to_digits_with_the_country_code(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
