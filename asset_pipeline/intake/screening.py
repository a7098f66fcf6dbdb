"""Which columns of an asset list hold personal data, found with our own detectors.

An asset list often carries who used each machine: a name, an e-mail address, a personnummer,
a phone number. None of that belongs in the station's database or the return report, so such a
column is dropped whole. A column is judged by its header (`headers.PERSONAL_HEADERS`) and by
its values, which go through `scanners.text.TextDetector` (the same validators as the drive
scans, plus person names). Each value is read as "Header: value", so a header such as
"Personnummer" is the context that a bare ten-digit number needs.

The asset tag and serial columns are read by the raw fast path (`scanners.RawMatcher`) instead:
there an e-mail address or a personnummer means the file is wrong, and the whole list is refused.

The verdict holds the header, the categories and how many rows showed them: never a value.
The detector's digests are keyed with a throwaway key and dropped.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from asset_pipeline.intake.headers import personal_reason

# Company identifiers are not personal data; every other category the detectors know is.
NOT_PERSONAL = frozenset({"organisationsnummer", "bankgiro", "plusgiro"})
# In an asset tag or serial column these shapes mean the file is wrong, not a stray value:
# a serial can look like a phone number or a name by chance, never like an e-mail address.
WRONG_IN_IDENTITY = frozenset(
    {"email", "personnummer", "samordningsnummer", "payment_card", "iban"}
)


@dataclass(frozen=True, slots=True)
class ColumnVerdict:
    """What the screening found in one column (counts of rows, never values)."""

    header: str
    rows: int  # non-empty values looked at
    categories: dict[str, int] = field(default_factory=dict)  # category -> rows showing it
    header_reason: str | None = None  # what the header itself names, e.g. "e-mail"

    @property
    def personal(self) -> bool:
        """True when the column must not be stored."""
        return bool(self.header_reason or self.categories)

    def reason(self) -> str:
        """Why the column is dropped, in one phrase (names categories and counts only)."""
        if self.header_reason:
            return f"the header names {self.header_reason}"
        return ", ".join(
            f"{n} of {self.rows} values look like {category}"
            for category, n in sorted(self.categories.items())
        )

    def record(self) -> dict[str, object]:
        """The dropped column as stored and reported (header, categories, counts; no value).

        `reason` says it in English; `header_names`, `looks_like` and `filled_cells` say the same as
        codes and counts, so the return report can print it in Swedish and English.
        """
        return {
            "column": self.header,
            "reason": self.reason(),
            "header_names": self.header_reason,
            "looks_like": {} if self.header_reason else dict(sorted(self.categories.items())),
            "filled_cells": self.rows,
        }


class ColumnScreen:
    """Screens columns with the text detector (loaded once, on first use)."""

    def __init__(self) -> None:
        self._detector = None
        self._matcher = None

    def check_identity(self, header: str, values: Sequence[str]) -> ColumnVerdict:
        """The categories in an asset tag or serial column, by the raw fast path.

        The raw path reads the values without a header for context, so a bare number (a
        common tag) is not taken for a personnummer; it is also fast enough for columns whose
        every value differs.
        """
        filled = [v for v in values if v]
        data = b"".join(v.encode("utf-8") + b"\n" for v in filled)
        starts, offset = [], 0
        for value in filled:
            starts.append(offset)
            offset += len(value.encode("utf-8")) + 1
        rows_by_category: dict[str, set[int]] = {}
        for finding in self._raw_matcher().scan(data):
            row = bisect.bisect_right(starts, finding.offset) - 1
            rows_by_category.setdefault(finding.category, set()).add(row)
        counts = {category: len(rows) for category, rows in rows_by_category.items()}
        return ColumnVerdict(header, len(filled), counts)

    def check(self, header: str, values: Sequence[str]) -> ColumnVerdict:
        """The verdict for one of the customer's columns: its header and its values."""
        filled = [v for v in values if v]
        header_reason = personal_reason(header)
        if header_reason or not filled:
            return ColumnVerdict(header, len(filled), header_reason=header_reason)
        label = " ".join(header.split()) or "Value"
        # Lists repeat values ("HP", "Bärbar dator"): each distinct value is read once and
        # counts for every row that holds it.
        rows_of: dict[str, int] = {}
        for value in filled:
            line = f"{label}: {' '.join(value.split())}"
            rows_of[line] = rows_of.get(line, 0) + 1
        lines = list(rows_of)
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        lines_by_category: dict[str, set[int]] = {}
        for finding in self._text_detector().scan("\n".join(lines)):
            if finding.category in NOT_PERSONAL:
                continue
            line = bisect.bisect_right(starts, finding.offset) - 1
            lines_by_category.setdefault(finding.category, set()).add(line)
        counts = {
            category: sum(rows_of[lines[i]] for i in found)
            for category, found in lines_by_category.items()
        }
        return ColumnVerdict(header, len(filled), counts)

    def _raw_matcher(self):  # noqa: ANN202 - typed by scanners
        if self._matcher is None:
            from scanners import RawMatcher, ValueHasher

            self._matcher = RawMatcher(ValueHasher(os.urandom(32)))
        return self._matcher

    def _text_detector(self):  # noqa: ANN202 - scanners.text loads Presidio: typed lazily
        if self._detector is None:
            from scanners import ValueHasher
            from scanners.text import TextDetector

            self._detector = TextDetector(ValueHasher(os.urandom(32)))
        return self._detector
