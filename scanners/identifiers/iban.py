"""IBAN of every country (ISO 13616), Swedish `SE` + 22 characters above all.

`stdnum.iban` is right: it knows each country's length and BBAN structure and checks mod 97. This
module only turns its exceptions into None and gives the compact form used for hashing.
"""

from __future__ import annotations

from stdnum import iban as _iban
from stdnum.exceptions import ValidationError


def parse(value: str) -> str | None:
    """The compact upper-case IBAN (`SE4550000000058398257466`) when valid, else None."""
    try:
        return _iban.validate(value)
    except ValidationError:
        return None


def is_valid(value: str) -> bool:
    """True for a valid IBAN of any country."""
    return parse(value) is not None
