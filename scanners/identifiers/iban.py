"""IBAN of every country (ISO 13616), Swedish `SE` + 22 characters above all.

`stdnum.iban` is right: it knows each country's BBAN structure, checks mod 97 and runs national
checks (Norway's mod 11, ...). But it looks the country up in its database on every call (about
25 µs), so the structure regex of each country is cached here and mod 97 is computed first, which
rejects most candidates at once. tests/scanners/identifiers/test_others.py checks that the verdicts
equal stdnum's.
"""

from __future__ import annotations

import functools
import re

from stdnum import iban as _iban
from stdnum.exceptions import ValidationError

from scanners.hot import compiled

_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# ISO 7064 mod 97-10 reads letters as two-digit numbers, A = 10 ... Z = 35.
_AS_DIGITS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})


def _mod97_py(number: str) -> int:
    return int((number[4:] + number[:4]).translate(_AS_DIGITS)) % 97


_mod97 = compiled.iban_mod97 if compiled is not None else _mod97_py


@functools.cache
def _country(code: str) -> tuple[re.Pattern[str] | None, object]:
    """The BBAN structure regex (None: no such IBAN country) and national module of a country."""
    info = _iban._ibandb.info(code)
    props = info[0][1] if info else {}
    if not props or "bban" not in props:
        return None, None
    return _iban._struct_to_re(props["bban"]), _iban._get_cc_module(code)


def parse(value: str) -> str | None:
    """The compact upper-case IBAN (`SE4550000000058398257466`) when valid, else None."""
    number = value.strip().replace(" ", "").replace(".", "").replace("-", "").upper()
    if _SHAPE.fullmatch(number) is None:
        return None
    # mod 97-10 check digits are 98 - (n mod 97): always 02-98. stdnum lets 00, 01 and 99 pass
    # when they are congruent to the right ones (97, 98, 2).
    if not "02" <= number[2:4] <= "98":
        return None
    if _mod97(number) != 1:
        return None
    structure, module = _country(number[:2])
    if structure is None or not structure.match(number[4:]):
        return None
    if module is not None:
        try:
            module.validate(number)
        except ValidationError:
            return None
    return number


def is_valid(value: str) -> bool:
    """True for a valid IBAN of any country."""
    return parse(value) is not None
