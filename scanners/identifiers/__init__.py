"""Validators for the identifiers the detectors look for, one module per family.

Each module has `parse(value) -> normalized | None` (the normalized form is what gets hashed) and,
where one form suffices, `is_valid(value) -> bool`.
"""

from scanners.identifiers import card, email, giro, iban, ip, orgnr, personnummer, phone, postal
from scanners.identifiers.luhn import luhn_check_digit, luhn_valid

__all__ = [
    "card",
    "email",
    "giro",
    "iban",
    "ip",
    "luhn_check_digit",
    "luhn_valid",
    "orgnr",
    "personnummer",
    "phone",
    "postal",
]
