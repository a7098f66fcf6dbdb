"""Matching one page of the raw pass: the fast path, NTFS fixups and compressed streams.

Shared by the raw pass's worker threads and its worker processes (`scanners.workers`), so both
count exactly the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

from scanners.arrays import np
from scanners.fixups import apply_ntfs_fixups
from scanners.inflate import Inflation, Limits, Stream, buffer_reader, find_streams, inflate
from scanners.records import joined
from scanners.report import Tally
from scanners.sqliterecords import Records

if TYPE_CHECKING:
    from scanners.findings import Finding
    from scanners.pages import Page
    from scanners.report import Locator
    from scanners.target import Span, Target

# A data page is matched a piece at a time (with its context on either side), so that one
# piece's candidates and findings are alive at once: a page of dense documents held 120 MB.
PIECE = 512 << 10
# Context read on either side of a piece: more than a match with the bytes its rules look at
# (`fastpath.MAX_MATCH` + 2 x `rules.RULE_BEFORE`, the hyperscan gate margins: ~1.3 KiB).
PIECE_CONTEXT = 4 << 10
# Inflated output is matched a piece at a time, its findings counted in batches.
INFLATED_PIECE = 1 << 20
INFLATED_BATCH = 1 << 14


class Matcher(Protocol):
    """The detectors' fast path (`scanners.fastpath.RawMatcher`)."""

    def scan(self, data: bytes | memoryview, base_offset: int = 0) -> list[Finding]:
        """Findings in `data`; offsets are `base_offset` + byte index of the match start."""
        ...

    def scan_stream(self, stream: BinaryIO, *, chunk_size: int = ...) -> Iterator[Finding]:
        """`scan` of a stream's bytes, a chunk at a time (memory O(chunk_size))."""
        ...

    def scan_records(self, data: bytes | memoryview, base_offset: int = 0) -> np.ndarray:
        """`scan` as records (`scanners.records`), in offset order."""
        ...

    def scan_stream_records(
        self, stream: BinaryIO, *, chunk_size: int = ...
    ) -> Iterator[np.ndarray]:
        """`scan_stream` as records, an array a chunk."""
        ...


@dataclass
class PageOutcome:
    """What one page gave: its findings and what the raw pass reports about it."""

    tally: Tally
    bad: tuple[Span, ...]
    kind: str  # "uniform" | "pattern" | "data"
    bytes_read: int
    start: int
    length: int
    inflated: int = 0
    streams: int = 0
    over_budget: bool = False
    cut: bool = False  # a stream was longer than the per-stream output or input limit
    too_deep: bool = False  # a stream held streams deeper than the depth limit
    # A stream read past its held part held compressed streams there, not inflated.
    nested_in_tail: bool = False
    deferred: int = 0  # streams left to the file pass (inside a file it decodes)
    left_to_files: int = 0  # core bytes not matched: inside files the file pass decodes


class PageMatcher:
    """Counts the findings of a page whose kind (data, uniform, pattern) is already known."""

    def __init__(
        self,
        target: Target,
        matcher: Matcher,
        margin: int,
        limits: Limits,
        locator: Locator | None = None,
    ) -> None:
        self.target = target
        self.matcher = matcher
        self.margin = margin
        self.limits = limits
        self.locator = locator

    def scan(self, page: Page, kind: str) -> PageOutcome:
        """Findings that start in the page's core (all of it, or the tail of a skipped page)."""
        tally = Tally(locator=self.locator)
        out = PageOutcome(tally, page.bad, kind, page.length, page.start, page.length)
        if kind == "data":
            # The page's buffer is ours: restoring NTFS records in place costs no copy.
            apply_ntfs_fixups(page.data, page.lead - page.start % 512)
            self._scan_data(page, out)
            self._inflate_streams(page, out)
            return out
        # Only a match starting in the last `margin` bytes can run into the next page. One
        # lying wholly inside zeros or the wipe pattern is noise of the pattern itself.
        core_end = page.start + page.length
        keep_from = max(page.start, core_end - self.margin)
        lo = max(0, keep_from - self.margin - page.window_start)
        found = self.matcher.scan_records(page.data[lo:], page.window_start + lo)
        starts, ends = found["offset"], found["offset"] + found["length"]
        tally.add_records(found[(starts >= keep_from) & (starts < core_end) & (ends > core_end)])
        return out

    def _scan_data(self, page: Page, out: PageOutcome) -> None:
        """Match the core a piece at a time, skipping the files the file pass decodes.

        Each piece is matched with `PIECE_CONTEXT` bytes on either side and keeps the findings
        that start in it: the same findings as the whole page at once, but only one piece's
        findings (and candidates) are alive at a time.
        """
        base, data = page.window_start, page.data
        window_end = base + len(data)
        core_end = page.start + page.length
        pieces = self._pieces(page.start, core_end)
        out.left_to_files = page.length - sum(hi - lo for lo, hi in pieces)
        if not pieces:
            return
        # Fields of SQLite records lie back to back: match them one by one, not glued.
        records = Records(data, base, 0, page.lead + page.length, self.matcher)
        context = min(self.margin, PIECE_CONTEXT)
        for lo, hi in pieces:
            a, b = max(base, lo - context), min(window_end, hi + context)
            found = self.matcher.scan_records(data[a - base : b - base], a)
            out.tally.add_records(records.apply(found, lo, hi))

    def _pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """The ranges of [start, end) to match, each at most `PIECE` long.

        All but the files the file pass decodes; ranges closer than the context two pieces
        would read around them are matched as one.
        """
        spans: list[tuple[int, int]] = []
        at = start
        while at < end:
            if self.locator is None:
                place_decoded, hi = False, end
            else:
                place, _, hi = self.locator.locate_span(at)
                place_decoded, hi = place.decoded, min(max(hi, at + 1), end)
            if not place_decoded:
                if spans and at - spans[-1][1] < 2 * PIECE_CONTEXT:
                    spans[-1] = (spans[-1][0], hi)
                else:
                    spans.append((at, hi))
            at = hi
        return [
            (lo, min(lo + PIECE, hi)) for span_lo, hi in spans for lo in range(span_lo, hi, PIECE)
        ]

    def _inflate_streams(self, page: Page, out: PageOutcome) -> None:
        budget = self.limits.budget
        data, base = page.data, page.window_start

        def read(offset: int, length: int) -> bytes:
            # Serve from the page while the stream lies inside it, then from the target.
            if offset >= 0 and offset + length <= len(data):
                return bytes(data[offset : offset + length])
            return self.target.pread(base + offset, length)

        for stream in find_streams(data, page.lead, page.lead + page.length):
            where = base + stream.offset
            reader = read
            if self.locator is not None:
                if self.locator.locate(where).decoded:
                    # The file pass unpacks this file whole; its findings here would give way.
                    out.deferred += 1
                    continue
                fragmented = self.locator.file_ranges(where)
                if fragmented is not None:
                    reader = _along(read, base, *fragmented)
            if budget <= 0:
                out.over_budget = True
                return
            budget -= self._inflate(reader, stream, where, 1, budget, out)

    def _inflate(
        self,
        read: Callable[[int, int], bytes],
        stream: Stream,
        where: int,
        depth: int,
        budget: int,
        out: PageOutcome,
    ) -> int:
        """Inflate one stream, count its findings at `where`; returns output bytes spent.

        The budget bounds the output held (where nested streams are searched); a stream read
        from the target goes on past the per-stream limit while it is text-like, a piece at a
        time, and that tail is bounded by its own input instead (`inflate.Inflation`).
        """
        hold = min(budget, self.limits.max_output)
        tail = depth == 1 and hold == self.limits.max_output
        source = Inflation(
            read, stream, self.limits, hold, tail=tail, on_tail=_NestedInTail(self.limits, out)
        )
        # A piece at a time: a 16 MiB mail log holds 400,000 values, whose findings held at
        # once took about 80 MB in every worker.
        batch: list[np.ndarray] = []
        held = 0
        for found in self.matcher.scan_stream_records(source, chunk_size=INFLATED_PIECE):
            batch.append(found)
            held += len(found)
            if held >= INFLATED_BATCH:
                out.tally.add_records(joined(batch), offset=where)
                batch, held = [], 0
        out.tally.add_records(joined(batch), offset=where)
        if source.cut:
            if budget < self.limits.max_output:
                out.over_budget = True
            else:
                out.cut = True
        if not source.produced:
            return 0
        out.streams += 1
        out.inflated += source.produced
        data = source.held
        spent = len(data)
        inner = buffer_reader(data)
        if depth >= self.limits.max_depth:
            # Only a nested stream that really inflates counts: signature bytes in plain
            # output are common, streams there are not.
            out.too_deep = out.too_deep or any(
                inflate(inner, nested, self.limits, max_output=1)[0]
                for nested in find_streams(data)
            )
        else:
            for nested in find_streams(data):
                if budget - spent <= 0:
                    out.over_budget = True
                    break
                spent += self._inflate(inner, nested, where, depth + 1, budget - spent, out)
        return spent


def _along(
    read: Callable[[int, int], bytes], base: int, ranges: tuple[tuple[int, int], ...], first: int
) -> Callable[[int, int], bytes]:
    """`read` (offsets from `base`) that follows a fragmented file's ranges from `first` on.

    A stream in a file split on the device goes on in the file's next range, not in the bytes
    after its first one: a rotated log written while other files grew is often in two pieces.
    """
    start = ranges[first][0]

    def read_along(offset: int, length: int) -> bytes:
        at = base + offset - start  # bytes into the file from the start of range `first`
        pieces = []
        for lo, hi in ranges[first:]:
            if at >= hi - lo:
                at -= hi - lo
                continue
            take = min(length, hi - lo - at)
            pieces.append(read(lo + at - base, take))
            length -= take
            at = 0
            if not length:
                break
        return b"".join(pieces)

    return read_along


class _NestedInTail:
    """Watches a stream's output past its held part for streams that really inflate.

    Only the held part is searched for nested streams: one past it (a document deep in a
    large tar.gz) is not read, and must be reported, not left out in silence. A signature
    that inflates not one byte from what is at hand (text is full of chance `x^`) is none.
    """

    def __init__(self, limits: Limits, out: PageOutcome) -> None:
        self._limits = limits
        self._out = out
        self._last = b""  # the previous piece's end: a signature across the seam

    def __call__(self, piece: bytes) -> None:
        if self._out.nested_in_tail:
            return
        # The piece, and across the seam a window of the previous piece's end and this one's
        # start (not a copy of every piece glued to its predecessor).
        seam, self._last = self._last + piece[:_PROBE], piece[-_SEAM:]
        for window in (seam, piece):
            inner = buffer_reader(window)
            for nested in find_streams(window):
                if inflate(inner, nested, self._limits, max_output=1)[0]:
                    self._out.nested_in_tail = True
                    return


_SEAM = 64  # longer than any signature and the header bytes `find_streams` reads
_PROBE = 4096  # compressed bytes after a header that show whether it inflates
