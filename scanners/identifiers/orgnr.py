"""Swedish organisationsnummer: `NNNNNN-NNNC`, also `16NNNNNNNNNC` and VAT `SENNNNNNNNNN01`.

Digits 3-4 are 20 or more (no month), which keeps it apart from a personnummer; the first digit
is the legal-form group; C is the Luhn digit over all ten digits. `stdnum.se.orgnr` checks only
the Luhn digit, so it takes any personnummer as an organisationsnummer: we add the two rules.
"""

from __future__ import annotations

import re

from scanners.identifiers.luhn import luhn_valid

_FORM = re.compile(r"(?:16)?(\d{6})-?(\d{4})")
_VAT = re.compile(r"SE ?(\d{10})01")
# 1 estates, 2 state/regions/municipalities/parishes, 3 foreign companies, 5 aktiebolag,
# 6 simple companies, 7 economic associations, 8 non-profits, 9 trading partnerships.
_LEGAL_FORMS = frozenset("12356789")


def parse(value: str) -> str | None:
    """The ten digits of a valid organisationsnummer (any written form, or VAT), else None."""
    m = _FORM.fullmatch(value)
    if m is not None:
        digits = m.group(1) + m.group(2)
    else:
        v = _VAT.fullmatch(value.upper())
        if v is None:
            return None
        digits = v.group(1)
    if digits[0] not in _LEGAL_FORMS or digits[2] < "2":
        return None
    return digits if luhn_valid(digits) else None


def is_valid(value: str) -> bool:
    """True for a valid organisationsnummer in any written form."""
    return parse(value) is not None
