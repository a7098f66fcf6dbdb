"""What a byte of a target holds, for attributing raw findings (`scanners.extents` builds it).

Kept apart from `scanners.extents` so that the raw pass's worker processes, which receive the
map pickled, do not import the file-system and document parsers to read it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

LIVE = "live file"
SLACK = "file slack"
METADATA = "file-system metadata"
UNALLOCATED = "deleted or unallocated"
UNMAPPED = "unmapped"  # a raw pass run without a map (the library's `scan_raw` alone)
ALLOCATIONS = (LIVE, UNALLOCATED, SLACK, METADATA)


@dataclass(frozen=True, slots=True)
class Place:
    """What a device range holds; `path` names the file of a live-file or slack range."""

    allocation: str
    path: str | None = None
    decoded: bool = False  # the file pass reads this file's content; raw findings give way


_UNALLOCATED = Place(UNALLOCATED)


class ExtentMap:
    """Sorted device ranges and their `Place`; picklable, so worker processes get a copy."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._places: list[Place] = []
        self.raw_readable: set[str] = set()  # paths of live files the raw pass reads as they are
        self.files = 0
        # Fragmented files: each one's device ranges in file order, and a sorted index of
        # (range start, range end, file, range number) to find the file a stream starts in.
        self._fragmented: list[tuple[tuple[int, int], ...]] = []
        self._pieces: list[tuple[int, int, int, int]] = []

    def add(self, start: int, end: int, place: Place) -> None:
        """Record [start, end) as `place` (call `freeze` when done)."""
        if end > start:
            self._starts.append(start)
            self._ends.append(end)
            self._places.append(place)

    def add_fragmented(self, ranges: list[tuple[int, int]]) -> None:
        """Record a file's content ranges [start, end), in file order, when there are several.

        The raw pass reads a compressed stream that starts in such a file along its ranges,
        as the file system would, not on into whatever follows its first range.
        """
        if len(ranges) > 1:
            number = len(self._fragmented)
            self._fragmented.append(tuple(ranges))
            self._pieces.extend((lo, hi, number, i) for i, (lo, hi) in enumerate(ranges))

    def file_ranges(self, offset: int) -> tuple[tuple[tuple[int, int], ...], int] | None:
        """The ranges of the fragmented file holding `offset`, and which of them holds it."""
        i = bisect.bisect_right(self._pieces, (offset, 1 << 62)) - 1
        if i >= 0 and offset < self._pieces[i][1]:
            _, _, number, at = self._pieces[i]
            return self._fragmented[number], at
        return None

    def freeze(self) -> None:
        """Sort the ranges for lookups."""
        self._pieces.sort()
        order = sorted(range(len(self._starts)), key=self._starts.__getitem__)
        self._starts = [self._starts[i] for i in order]
        self._ends = [self._ends[i] for i in order]
        self._places = [self._places[i] for i in order]

    def locate(self, offset: int) -> Place:
        """The place holding the byte at `offset` of the target."""
        return self.locate_span(offset)[0]

    def locate_span(self, offset: int) -> tuple[Place, int, int]:
        """The place holding the byte at `offset`, and the range [lo, hi) it holds throughout.

        Sorted findings mostly fall in the range of the one before: one lookup serves many. A
        range that another one starts inside (overlapping extents) holds only up to there.
        """
        i = bisect.bisect_right(self._starts, offset) - 1
        following = self._starts[i + 1] if i + 1 < len(self._starts) else 1 << 62
        if i >= 0 and offset < self._ends[i]:
            return self._places[i], self._starts[i], min(self._ends[i], following)
        return _UNALLOCATED, self._ends[i] if i >= 0 else 0, following

    def __len__(self) -> int:
        return len(self._starts)
