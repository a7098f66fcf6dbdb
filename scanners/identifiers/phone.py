"""Phone numbers, Swedish (+46) above all, validated by libphonenumber's metadata.

`phonenumbers` is right here (it knows the Swedish area codes and mobile ranges) but its `parse`
costs about 60 µs, which the raw fast path cannot pay per candidate. Swedish numbers are therefore
checked against the same metadata directly (the SE number-type patterns, compiled once); numbers
of other countries go through `phonenumbers.parse`. tests/scanners/identifiers/test_phone.py checks
that both give the same verdicts.
"""

from __future__ import annotations

import functools
import re
import traceback

import phonenumbers
from phonenumbers import PhoneMetadata

from scanners.identifiers import digitdfa

_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
          "voip", "pager", "uan", "voicemail")  # fmt: skip


def _se_pattern() -> re.Pattern[str]:
    meta = PhoneMetadata.metadata_for_region("SE")
    parts = []
    for name in _TYPES:
        desc = getattr(meta, name)
        if desc is not None and desc.national_number_pattern:
            parts.append(f"(?:{desc.national_number_pattern})")
    return re.compile("|".join(parts))


_SE_NUMBER = _se_pattern()
# Whether national digits (no trunk 0) are a valid Swedish number: the raw path's C rule
# (`scanners._hot.confirm_phone`) asks this one question of the metadata.
national_number_match = _SE_NUMBER.fullmatch


@functools.cache
def national_table() -> bytes:
    """`national_number_match` as an automaton for the C rule (`identifiers.digitdfa`).

    ValueError where the metadata's patterns hold more than digits, classes, groups and
    repeats: the C rule then calls `national_number_match`.
    """
    return digitdfa.compile_digits(_SE_NUMBER.pattern)


_NOT_DIGIT = re.compile(r"[^0-9+]")


def parse(value: str, region: str = "SE") -> str | None:
    """E.164 form (`+46701234567`) of a valid phone number, else None.

    Args:
        value: the number as written (spaces, hyphens, parentheses allowed).
        region: the country assumed when the number has no `+`/`00` prefix.
    """
    compact = _NOT_DIGIT.sub("", value.replace("(0)", ""))
    if not 7 <= len(compact.lstrip("+")) <= 15:
        return None
    national = None
    if compact.startswith(("+46", "0046")):
        national = compact[3:] if compact[0] == "+" else compact[4:]
    elif region == "SE" and compact.startswith("0") and not compact.startswith("00"):
        national = compact[1:]
    if national is not None:
        if _SE_NUMBER.fullmatch(national):
            return "+46" + national
        # "+46 (0)8 ..." and "+46 08 ...": libphonenumber drops the trunk 0 after the country code.
        trunk = national.startswith("0") and "(0)" not in value
        if trunk and compact[0] in "+0" and _SE_NUMBER.fullmatch(national[1:]):
            return "+46" + national[1:]
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as e:
        _forget(e)
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _forget(e: BaseException | None) -> None:
    """Break the reference cycle a number phonenumbers refuses leaves behind.

    phonenumbers keeps the exception in a local of its own frame (`sys.exc_info()`), whose
    traceback holds that frame. Only the cyclic collector freed such a cycle, and with it
    every frame above it: in the raw pass, the page or the megabyte of inflated log being
    matched. A worker that counts values as records makes too few objects to run the
    collector often, and held 60 MB more.
    """
    while e is not None:
        traceback.clear_frames(e.__traceback__)
        e.__traceback__ = None
        e = e.__context__


def is_mobile_se(e164: str) -> bool:
    """True for a Swedish mobile number (+46 70/72/73/76/79)."""
    return e164.startswith("+467") and e164[4] in "02369"


def is_valid(value: str) -> bool:
    """True for a valid phone number (Swedish when written without country code)."""
    return parse(value) is not None
