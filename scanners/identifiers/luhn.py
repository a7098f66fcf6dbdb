"""Luhn (mod 10) check digits, shared by personnummer, orgnr, giro numbers and cards.

Own code rather than `stdnum.luhn`: it runs on every candidate of the raw fast path. The doubled
digits are mapped by one `bytes.translate` and both halves summed in C, with no Python loop.
"""

from __future__ import annotations

from scanners.hot import compiled

# Each ASCII digit to the digit sum of its double: 5 -> 10 -> "1".
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_valid(digits: str) -> bool:
    """True when the last digit of `digits` (ASCII 0-9 only) is its Luhn check digit."""
    raw = digits.encode()
    total = sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)
    return total % 10 == 0


def _luhn_valid_c(digits: str) -> bool:
    try:
        return _c_luhn(digits)
    except ValueError:  # not ASCII digits: the Python reading, whatever it says
        return _luhn_valid_py(digits)


_luhn_valid_py = luhn_valid
if compiled is not None:
    _c_luhn = compiled.luhn_valid
    luhn_valid = _luhn_valid_c  # noqa: F811 - the compiled twin, same answers


def luhn_check_digit(digits: str) -> str:
    """The check digit that makes `digits` + it pass `luhn_valid`."""
    for c in "0123456789":
        if luhn_valid(digits + c):
            return c
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")
