"""Phone numbers, Swedish (+46) above all, validated by libphonenumber's metadata.

`phonenumbers` is right here (it knows the Swedish area codes and mobile ranges), so this module
only fixes the region to SE for numbers written without a country code, and returns E.164.
"""

from __future__ import annotations

import phonenumbers


def parse(value: str, region: str = "SE") -> str | None:
    """E.164 form (`+46701234567`) of a valid phone number, else None.

    Args:
        value: the number as written (spaces, hyphens, parentheses allowed).
        region: the country assumed when the number has no `+`/`00` prefix.
    """
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile_se(e164: str) -> bool:
    """True for a Swedish mobile number (+46 70/72/73/76/79)."""
    return e164.startswith("+467") and e164[4] in "02369"


def is_valid(value: str) -> bool:
    """True for a valid phone number (Swedish when written without country code)."""
    return parse(value) is not None
