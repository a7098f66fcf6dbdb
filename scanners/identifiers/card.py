"""Payment card numbers: 13-19 digits, Luhn, and an issuer (IIN) prefix that a scheme uses.

`stdnum.luhn` alone would take any Luhn-valid digit run; the IIN table removes most of those
(order numbers, serials) while keeping Visa, Mastercard, Amex, Maestro, Discover, JCB, Diners,
UnionPay, RuPay, Mir, UATP and Troy.
"""

from __future__ import annotations

import functools

from scanners.identifiers.luhn import luhn_valid

# (first digits, their width, allowed lengths); expanded into `_IIN`.
_SCHEMES: tuple[tuple[range, int, frozenset[int]], ...] = (
    (range(4, 5), 1, frozenset({13, 16, 19})),  # Visa
    (range(51, 56), 2, frozenset({16})),  # Mastercard
    (range(2221, 2721), 4, frozenset({16})),  # Mastercard 2-series
    (range(34, 35), 2, frozenset({15})),  # Amex
    (range(37, 38), 2, frozenset({15})),  # Amex
    (range(6011, 6012), 4, frozenset({16, 19})),  # Discover
    (range(644, 660), 3, frozenset({16, 19})),  # Discover 644-649, 65x
    (range(3528, 3590), 4, frozenset({16, 19})),  # JCB
    (range(300, 306), 3, frozenset({14, 16, 19})),  # Diners
    (range(36, 37), 2, frozenset({14, 16, 19})),  # Diners
    (range(38, 40), 2, frozenset({16, 19})),  # Diners
    (range(50, 51), 2, frozenset(range(12, 20))),  # Maestro
    (range(56, 59), 2, frozenset(range(12, 20))),  # Maestro
    (range(6, 7), 1, frozenset(range(12, 20))),  # Maestro 6x, UnionPay 62, RuPay 60/65
    (range(2200, 2205), 4, frozenset(range(16, 20))),  # Mir
    (range(1, 2), 1, frozenset({15})),  # UATP
    (range(9792, 9793), 4, frozenset({16})),  # Troy
    (range(81, 83), 2, frozenset(range(16, 20))),  # UnionPay 81, RuPay 82
)


def _iin_table() -> dict[str, frozenset[int]]:
    """Issuer prefix (1-4 digits, as written) -> the card lengths its schemes allow."""
    table: dict[str, frozenset[int]] = {}
    for prefixes, _, lengths in _SCHEMES:
        for prefix in prefixes:
            table[str(prefix)] = table.get(str(prefix), frozenset()) | lengths
    return table


# One dict lookup per prefix width instead of an int() per scheme: it runs on every candidate.
_IIN = _iin_table()


def _iin_ok(digits: str) -> bool:
    n = len(digits)
    get = _IIN.get
    return any(n in get(digits[:width], ()) for width in (1, 2, 3, 4))


def parse(value: str) -> str | None:
    """The digits of a valid card number (spaces or hyphens allowed between groups), else None."""
    digits = value.replace(" ", "").replace("-", "")
    if not (13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return None
    if not _iin_ok(digits) or digits.count(digits[0]) == len(digits):
        return None  # one digit repeated (`6666666666666` in a font bitmap) is no card
    return digits if luhn_valid(digits) else None


def is_valid(value: str) -> bool:
    """True for a valid payment card number."""
    return parse(value) is not None


@functools.cache
def length_masks() -> bytes:
    """For each first four digits `0000`-`9999`, the lengths 12-19 that `_iin_ok` allows them.

    One byte each, length L as bit L - 12: the table of the C confirmation (`scanners/_confirm.c`),
    made from `_IIN` so that both read the same schemes.
    """
    out = bytearray(10_000)
    for first in range(10_000):
        four = f"{first:04d}"
        for width in (1, 2, 3, 4):
            for length in _IIN.get(four[:width], ()):
                out[first] |= 1 << (length - 12)
    return bytes(out)
