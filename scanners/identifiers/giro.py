"""Bankgiro (7-8 digits, `NNN-NNNN` / `NNNN-NNNN`) and plusgiro (2-8 digits, `NN NN NN-C`).

Both end in a Luhn digit over all digits. python-stdnum has neither, so they live here. Any
`NNNN-NNNN` passes one time in ten, which is why the detectors report them only beside a word such
as "bankgiro" or "plusgiro" (see `scanners.context`).
"""

from __future__ import annotations

import re

from scanners.identifiers.luhn import luhn_valid

_BANKGIRO = re.compile(r"(\d{3,4})-(\d{4})")
_PLUSGIRO = re.compile(r"((?:\d ?){1,7})-(\d)")


def parse_bankgiro(value: str) -> str | None:
    """The digits of a valid bankgiro number written `NNN-NNNN` or `NNNN-NNNN`, else None."""
    m = _BANKGIRO.fullmatch(value.strip())
    if m is None:
        return None
    digits = m.group(1) + m.group(2)
    return digits if luhn_valid(digits) else None


def parse_plusgiro(value: str) -> str | None:
    """The digits of a valid plusgiro number (`4 56 78-9`, `28 65 53-4`), else None."""
    m = _PLUSGIRO.fullmatch(value.strip())
    if m is None:
        return None
    digits = m.group(1).replace(" ", "") + m.group(2)
    if not 2 <= len(digits) <= 8:
        return None
    return digits if luhn_valid(digits) else None
