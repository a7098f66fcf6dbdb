"""Swedish postnummer (`NNN NN`, optional `SE-`) and the address context that makes it count.

A five-digit number alone is noise (amounts, ids), so `is_address_context` says whether a street
word (gatan, vägen, ...) or a `Box`/`c/o` line stands before it, which is when the detectors report
a postal address.
"""

from __future__ import annotations

import re

_FORM = re.compile(r"(?:SE-? ?)?([1-9]\d{2}) ?(\d{2})", re.IGNORECASE)
# A street name ends in one of these, or is followed by a house number; `Box 123` is a P.O. box.
STREET_SUFFIXES = (
    "gatan", "gata", "vägen", "väg", "gränd", "torget", "torg", "plan", "allé", "allén",
    "backe", "backen", "stigen", "stig", "leden", "led", "platsen", "plats", "kajen", "kaj",
    "strand", "stranden", "hagen", "parken", "liden", "bro", "bron", "slingan",
    "street", "road", "avenue", "lane",
)  # fmt: skip
_STREET = re.compile(
    r"(?:\b[A-ZÅÄÖ][a-zåäöé]*(?:" + "|".join(STREET_SUFFIXES) + r")\s+\d{1,4}\s?[A-Za-z]?"
    r"|\bBox\s+\d{1,6}|\bc/o\s+\w+)",
)


def parse(value: str) -> str | None:
    """The five digits of a Swedish postnummer, else None (first digit is never 0)."""
    m = _FORM.fullmatch(value.strip())
    return m.group(1) + m.group(2) if m else None


def street_before(text: str) -> re.Match[str] | None:
    """The last street line (`Storgatan 12`, `Box 123`) in `text`, the text before a postnummer."""
    last = None
    for last in _STREET.finditer(text):  # noqa: B007 - we want the nearest one
        pass
    return last


def is_valid(value: str) -> bool:
    """True for a well-formed Swedish postnummer."""
    return parse(value) is not None
