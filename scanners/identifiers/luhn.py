"""Luhn (mod 10) check digits, shared by personnummer, orgnr, giro numbers and cards.

Own code rather than `stdnum.luhn`: it runs on every candidate of the raw fast path, and a table
lookup over ASCII digits is several times faster than stdnum's generic alphabet handling.
"""

from __future__ import annotations

_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """True when the last digit of `digits` (ASCII 0-9 only) is its Luhn check digit."""
    total = 0
    double = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        total += _DOUBLED[d] if double else d
        double = not double
    return total % 10 == 0


def luhn_check_digit(digits: str) -> str:
    """The check digit that makes `digits` + it pass `luhn_valid`."""
    for c in "0123456789":
        if luhn_valid(digits + c):
            return c
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")
