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


@functools.cache
def countries() -> tuple[str, ...]:
    """The country codes stdnum's registry gives an IBAN structure: `parse` takes no other.

    The candidate pattern starts with one of them (`scanners.patterns`): a postfix queue id
    (`64BEA372DB8F`: `EA37`) is no IBAN candidate, and a mail log scans 0.9 -> 0.5 ns a byte.
    """
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    return tuple(a + b for a in letters for b in letters if _has_structure(a + b))


def _has_structure(code: str) -> bool:
    """Whether `_country(code)` has a structure, without compiling it or importing a module.

    Compiling every country's regex and importing its stdnum module at import took 62 ms of
    every scanning process's start.
    """
    info = _iban._ibandb.info(code)
    props = info[0][1] if info else {}
    return bool(props) and "bban" in props


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
    structure, _ = _country(number[:2])
    if structure is None or not structure.match(number[4:]):
        return None
    return number if national_ok(number) else None


def national_ok(number: str) -> bool:
    """The national check of a compact IBAN's country (Norway's mod 11, ...), where it has one."""
    module = _country(number[:2])[1]
    if module is None:
        return True
    try:
        module.validate(number)
    except ValidationError:
        return False
    return True


# The character classes of stdnum's BBAN structures (`_struct_to_re`): one letter each.
_CLASSES = {"[0-9]": "n", "[A-Z]": "a", "[A-Za-z0-9]": "c"}
_PIECE = re.compile(r"(\[[^\]]+\])\{([0-9]+)\}")
RECORD = 32  # bytes per country in `structure_table`


@functools.cache
def structure_table() -> bytes:
    """Every country's BBAN structure for the C confirmation (`scanners/_confirm.c`).

    A record of `RECORD` bytes per country code `AA`-`ZZ` (index (first - A) * 26 + second
    - A): the BBAN's length (0: no such IBAN country), 1 when the country has a national check
    (`national_ok`), then one class letter per BBAN character, n (digit), a (upper-case letter)
    or c (letter or digit). Read from the cached regexes `parse` matches, whole or not at all.
    """
    out = bytearray()
    for first in range(26):
        for second in range(26):
            code = chr(65 + first) + chr(65 + second)
            structure, module = _country(code)
            record = bytearray(RECORD)
            if structure is not None:
                body = structure.pattern.removeprefix("^").removesuffix("$")
                pieces = _PIECE.findall(body)
                if "".join(f"{c}{{{n}}}" for c, n in pieces) != body:
                    raise ValueError(f"BBAN structure not read: {code} {structure.pattern}")
                classes = "".join(_CLASSES[c] * int(n) for c, n in pieces)
                if not 0 < len(classes) <= RECORD - 2:
                    raise ValueError(f"BBAN structure too long: {code}")
                record[0], record[1] = len(classes), module is not None
                record[2 : 2 + len(classes)] = classes.encode()
            out += record
    return bytes(out)


def is_valid(value: str) -> bool:
    """True for a valid IBAN of any country."""
    return parse(value) is not None
