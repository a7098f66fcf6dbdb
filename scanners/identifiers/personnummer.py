"""Swedish personnummer and samordningsnummer (Skatteverket SKV 704/707 rules).

Written forms: `YYMMDD-NNNC`, `YYMMDD+NNNC` (the person is 100 or older), `YYMMDDNNNC`,
`YYYYMMDD-NNNC` and `YYYYMMDDNNNC`. A day of 61-91 marks a samordningsnummer (real day = DD - 60).
The date must exist, the serial NNN must not be 000, and C is the Luhn digit over YYMMDDNNN.

Why not `stdnum.se.personnummer` alone: it rejects every samordningsnummer and accepts serial 000
(tests/scanners/identifiers/test_personnummer.py shows both), so we parse the number ourselves.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from scanners.hot import compiled
from scanners.identifiers.luhn import luhn_valid

_today_cache: list = [dt.date.min, 0.0, 0]  # date, when to read the clock again, YYYYMMDD


def _today() -> dt.date:
    """Today's date, read from the clock at most once a minute (it runs per candidate)."""
    now = time.monotonic()
    if now >= _today_cache[1]:
        today = dt.date.today()
        _today_cache[:] = [today, now + 60.0, today.year * 10000 + today.month * 100 + today.day]
    return _today_cache[0]


_CENTURIES = {"18": 1800, "19": 1900, "20": 2000}
_TWO_DIGITS = {f"{n:02d}": n for n in range(100)}
# Written MMDD of every date a leap year has (day + 60 for samordningsnummer) -> month*100 + day;
# lookups instead of `datetime`, which costs microseconds per candidate.
_MONTH_DAYS = {
    f"{month:02d}{day + shift:02d}": month * 100 + day
    for month, days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1)
    for day in range(1, days + 1)
    for shift in (0, 60)
}


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


def _fields(value: str, today: dt.date | None) -> tuple[int, int, str] | None:
    """(year, month * 100 + real day, the ten digits YYMMDDNNNC) of a valid number, else None.

    String slicing and table lookups rather than a regex and `datetime`: the raw fast path calls
    this on every personnummer-shaped candidate.
    """
    n = len(value)
    if n == 10:
        cent, sep, body = "", "", value
    elif n == 11:
        cent, sep, body = "", value[6], value[:6] + value[7:]
    elif n == 12:
        cent, sep, body = value[:2], "", value[2:]
    elif n == 13:
        cent, sep, body = value[:2], value[8], value[2:8] + value[9:]
    else:
        return None
    if (sep and sep not in "-+") or not (body.isascii() and body.isdigit()):
        return None
    month_day = _MONTH_DAYS.get(body[2:6])
    if month_day is None or body[6:9] == "000" or not luhn_valid(body):
        return None
    today = today or _today()
    yy = _TWO_DIGITS[body[:2]]
    if cent:
        century = _CENTURIES.get(cent)
        if century is None:
            return None
        year = century + yy
    else:
        base = today.year - (100 if sep == "+" else 0)
        year = base - ((base - yy) % 100)
    if month_day == 229 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    if year * 10000 + month_day > today.year * 10000 + today.month * 100 + today.day:
        return None
    return year, month_day, body


def _fields_c(value: str, today: dt.date | None) -> tuple[int, int, str] | None:
    """`_fields` in C (`scanners._hot.pnr_fields`): the same answers."""
    if today is None:
        _today()
        return _c_fields(value, _today_cache[2])
    return _c_fields(value, today.year * 10000 + today.month * 100 + today.day)


_fields_py = _fields
if compiled is not None:
    _c_fields = compiled.pnr_fields
    _fields = _fields_c  # noqa: F811 - the compiled twin


def parse(value: str, *, today: dt.date | None = None) -> Personnummer | None:
    """Parse one written personnummer or samordningsnummer; None when it is not valid.

    Args:
        value: the number in one of the five written forms (no spaces).
        today: the reference date for the century of 10-digit forms; defaults to today.
    """
    fields = _fields(value, today)
    if fields is None:
        return None
    year, month_day, body = fields
    born = dt.date(year, month_day // 100, month_day % 100)
    return Personnummer(born, body[6:9], body[9], body[4:6] > "60")


def classify(value: str) -> tuple[str, str] | None:
    """(category, normalized form) of a valid number, as `parse(value)` gives them; else None.

    The detectors need only these two, without building a `Personnummer`.
    """
    fields = _fields(value, None)
    if fields is None:
        return None
    year, _, body = fields
    category = "samordningsnummer" if body[4:6] > "60" else "personnummer"
    return category, f"{year:04d}{body[2:]}"


def is_valid(value: str) -> bool:
    """True for a valid personnummer or samordningsnummer in any written form."""
    return parse(value) is not None
