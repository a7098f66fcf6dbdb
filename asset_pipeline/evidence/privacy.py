"""The rule that keeps personal data found on devices out of the evidence.

What goes into a log payload or a certificate is counts, ids, methods, hashes and short
technical strings. Two checks enforce it where evidence is written:

1. Structure: keys are snake_case names, never one that would carry found content (`value`,
   `text`, `match`, `snippet`, ...); strings are at most `MAX_STRING` characters, so file
   content cannot be pasted in; values are JSON scalars, lists and objects only.
2. Content: every string is screened for high-precision personal-data shapes (e-mail address,
   personnummer/samordningsnummer with a valid date and check digit, a Luhn-valid payment card
   number, a Swedish IBAN). Device identity fields (`IDENTITY_KEYS`: serial, WWN, model, ...)
   are exempt, since a drive's serial may be all digits and is not personal data.

A refusal names the field and the category, never the value. Where losing the record would
be worse than losing one string (the processing log), `on_match="withhold"` replaces the string
with `WITHHELD` + category and truncates long strings instead of refusing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from asset_pipeline.errors import PersonalDataRefused

log = logging.getLogger(__name__)

MAX_STRING = 300
WITHHELD = "[withheld: looks like "
MAX_DEPTH = 6

FORBIDDEN_KEYS = frozenset(
    {
        "content",
        "context",
        "excerpt",
        "match",
        "matched",
        "matched_text",
        "preview",
        "raw",
        "sample_text",
        "snippet",
        "text",
        "value",
        "values",
    }
)
IDENTITY_KEYS = frozenset(
    {"asset_tag", "firmware", "model", "serial", "vendor", "manufacturer", "wwn"}
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PERSONNUMMER = re.compile(
    r"(?<![0-9A-Za-z])(?:19|20)?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{3})(\d)(?![0-9A-Za-z])"
)
_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7})(?![0-9A-Za-z])")
_IBAN_SE = re.compile(r"(?<![0-9A-Za-z])SE\d{2}(?: ?\d{4}){5}(?![0-9A-Za-z])", re.IGNORECASE)


def check_payload(
    payload: Mapping[str, Any], *, where: str, on_match: str = "refuse"
) -> dict[str, Any]:
    """Return a plain-dict copy of `payload` after checking it carries no personal data.

    Args:
        payload: the mapping to check (nested mappings and lists are checked too).
        where: what the payload belongs to, for the error message (e.g. "audit payload").
        on_match: "refuse" raises on a suspicious or over-long string; "withhold" replaces
            it with a marker (or truncates it) and keeps going.

    Raises:
        PersonalDataRefused: a key or a value's type breaks the rule above, or (with
            "refuse") a string's size or content does.
    """
    if not isinstance(payload, Mapping):
        raise PersonalDataRefused(f"{where} must be a JSON object")
    return _Walker(where, withhold=on_match == "withhold").walk(payload, "", 0, exempt=False)


def screen(text: str) -> str | None:
    """The personal-data category `text` looks like it contains, or None."""
    if _EMAIL.search(text):
        return "email"
    for m in _PERSONNUMMER.finditer(text):
        yy, mm, dd, serial, check = m.groups()
        if _valid_date(int(mm), int(dd)) and _luhn(f"{yy}{mm}{dd}{serial}{check}"):
            return "samordningsnummer" if int(dd) > 60 else "personnummer"
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return "payment_card"
    for m in _IBAN_SE.finditer(text):
        if _iban_ok(re.sub(r"\s", "", m.group()).upper()):
            return "iban"
    return None


class _Walker:
    def __init__(self, where: str, *, withhold: bool) -> None:
        self.where, self.withhold = where, withhold

    def walk(self, value: Any, path: str, depth: int, *, exempt: bool) -> Any:
        where = self.where
        if depth > MAX_DEPTH:
            raise PersonalDataRefused(f"{where} nests deeper than {MAX_DEPTH} levels at {path}")
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str) or not _KEY.match(key):
                    raise PersonalDataRefused(f"{where} key at {path or '.'} is not snake_case")
                if key in FORBIDDEN_KEYS:
                    raise PersonalDataRefused(
                        f"{where} field {path}.{key} would carry found content; use counts"
                    )
                out[key] = self.walk(item, f"{path}.{key}", depth + 1, exempt=key in IDENTITY_KEYS)
            return out
        if isinstance(value, (list, tuple)):
            return [
                self.walk(item, f"{path}[{i}]", depth + 1, exempt=exempt)
                for i, item in enumerate(value)
            ]
        if isinstance(value, str):
            return self.string(value, path or ".", exempt=exempt)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        raise PersonalDataRefused(f"{where} field {path} is a {type(value).__name__}, not JSON")

    def string(self, value: str, path: str, *, exempt: bool) -> str:
        category = None if exempt else screen(value)
        if category is not None:
            if self.withhold:
                log.warning("%s field %s withheld: a %s value", self.where, path, category)
                return f"{WITHHELD}{category}]"
            raise PersonalDataRefused(f"{self.where} field {path} looks like a {category} value")
        if len(value) > MAX_STRING:
            if self.withhold:
                return value[: MAX_STRING - 1] + "…"
            raise PersonalDataRefused(
                f"{self.where} field {path} is {len(value)} characters (at most {MAX_STRING})"
            )
        return value


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _valid_date(month: int, day: int) -> bool:
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    return 1 <= month <= 12 and 1 <= day <= 31


def _iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1
