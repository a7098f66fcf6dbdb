"""Swedish personnummer and samordningsnummer (Skatteverket SKV 704/707 rules).

Written forms: `YYMMDD-NNNC`, `YYMMDD+NNNC` (the person is 100 or older), `YYMMDDNNNC`,
`YYYYMMDD-NNNC` and `YYYYMMDDNNNC`. A day of 61-91 marks a samordningsnummer (real day = DD - 60).
The date must exist, the serial NNN must not be 000, and C is the Luhn digit over YYMMDDNNN.

Why not `stdnum.se.personnummer` alone: it rejects every samordningsnummer and accepts serial 000
(tests/scanners/identifiers/test_personnummer.py shows both), so we parse the number ourselves.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from scanners.identifiers.luhn import luhn_valid

_FORM = re.compile(r"(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)")
_CENTURIES = frozenset({18, 19, 20})


@dataclass(frozen=True, slots=True)
class Personnummer:
    """A valid personnummer or samordningsnummer, with its full birth date."""

    birth_date: dt.date
    serial: str  # NNN, never "000"
    check: str  # C
    coordination: bool  # a samordningsnummer (day + 60)

    @property
    def category(self) -> str:
        """The finding category: "personnummer" or "samordningsnummer"."""
        return "samordningsnummer" if self.coordination else "personnummer"

    @property
    def normalized(self) -> str:
        """The 12-digit form YYYYMMDDNNNC (day as written, +60 for samordningsnummer).

        Every written form of one number normalizes the same, so distinct counts agree.
        """
        d = self.birth_date
        day = d.day + 60 if self.coordination else d.day
        return f"{d.year:04d}{d.month:02d}{day:02d}{self.serial}{self.check}"

    @property
    def male(self) -> bool:
        """The ninth digit (last of the serial) is odd for men."""
        return int(self.serial[2]) % 2 == 1


def parse(value: str, *, today: dt.date | None = None) -> Personnummer | None:
    """Parse one written personnummer or samordningsnummer; None when it is not valid.

    Args:
        value: the number in one of the five written forms (no spaces).
        today: the reference date for the century of 10-digit forms; defaults to today.
    """
    m = _FORM.fullmatch(value)
    if m is None:
        return None
    cent, yy, mm, dd, sep, serial, check = m.groups()
    if serial == "000":
        return None
    if not luhn_valid(yy + mm + dd + serial + check):
        return None
    today = today or dt.date.today()
    if cent is not None:
        if int(cent) not in _CENTURIES:
            return None
        year = int(cent + yy)
    else:
        base = today.year - (100 if sep == "+" else 0)
        year = base - ((base - int(yy)) % 100)
    day = int(dd)
    coordination = 61 <= day <= 91
    if coordination:
        day -= 60
    try:
        born = dt.date(year, int(mm), day)
    except ValueError:
        return None
    if born > today:
        return None
    return Personnummer(born, serial, check, coordination)


def is_valid(value: str) -> bool:
    """True for a valid personnummer or samordningsnummer in any written form."""
    return parse(value) is not None
