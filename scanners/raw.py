"""The raw pass: every byte of the target through the detectors' fast path, at drive speed.

Pages are read ahead by a thread and matched by `workers` threads (the matcher and os.preadv
release the GIL). A page whose core is one repeated byte (a zeroed or erased drive) or equals the
expected wipe pattern is not matched, except for its last `margin` bytes, where a match running
into the next page could start. Compressed streams found in the page are inflated and scanned
(see `scanners.inflate`). Unreadable sectors become "not scannable" ranges and the scan goes on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from scanners.fixups import apply_ntfs_fixups
from scanners.inflate import Limits, Stream, buffer_reader, find_streams, inflate
from scanners.pages import Page, PageReader
from scanners.report import PassResult, Tally, Unscannable
from scanners.target import ByteRange

if TYPE_CHECKING:
    from scanners.findings import Finding
    from scanners.target import Target

log = logging.getLogger(__name__)

# (offset, length) -> the bytes a completed wipe left there (e.g. an AES-CTR keystream).
ExpectedPattern = Callable[[int, int], bytes | bytearray | memoryview]
Progress = Callable[[int, int], None]

# Uniform pages of these bytes cannot hold text, so only their tail is matched; a page of one
# printable byte ("1111...", spaces) is matched in full, since a match could lie inside it.
_BLANK_BYTES = frozenset(range(0x20)) | {0x7F, 0xFF}


class Matcher(Protocol):
    """The detectors' fast path (`scanners.fastpath.RawMatcher`)."""

    def scan(self, data: bytes | memoryview, base_offset: int = 0) -> list[Finding]:
        """Findings in `data`; offsets are `base_offset` + byte index of the match start."""
        ...


@dataclass(frozen=True, slots=True)
class RawOptions:
    """How the raw pass reads and what it skips."""

    page_size: int = 8 << 20
    margin: int = 64 << 10  # context on each side of a page; longer than any match in bytes
    workers: int = 2
    readahead: int = 2  # pages read ahead of the workers
    limits: Limits = field(default_factory=Limits)
    expected: ExpectedPattern | None = None


@dataclass
class _PageOutcome:
    tally: Tally
    bad: tuple[ByteRange, ...]
    kind: str  # "uniform" | "pattern" | "data"
    bytes_read: int
    inflated: int = 0
    streams: int = 0
    over_budget: bool = False
    start: int = 0
    length: int = 0


class RawScanner:
    """Runs the raw pass over one target; construct once per scan."""

    def __init__(self, target: Target, matcher: Matcher, options: RawOptions | None = None):
        self.target = target
        self.matcher = matcher
        self.options = options or RawOptions()
        self._uniform: dict[int, bytes] = {}

    def run(self, on_progress: Progress | None = None) -> PassResult:
        """Scan every byte of the target; returns the pass's tally and unreadable ranges."""
        opts = self.options
        reader = PageReader(
            self.target,
            page_size=opts.page_size,
            margin=opts.margin,
            buffers=opts.workers + opts.readahead,
        )
        result = PassResult("raw")
        stats: Counter[str] = Counter()
        bad: list[ByteRange] = []
        over_budget: list[ByteRange] = []
        pattern: list[ByteRange] = []
        done = 0
        began = time.monotonic()

        def collect(fut: Future[_PageOutcome]) -> None:
            nonlocal done
            out = fut.result()
            result.tally.merge(out.tally)
            stats[f"pages_{out.kind}"] += 1
            stats["streams_inflated"] += out.streams
            stats["bytes_inflated"] += out.inflated
            bad.extend(out.bad)
            if out.kind == "pattern":
                pattern.append(ByteRange(out.start, out.start + out.length))
            if out.over_budget:
                over_budget.append(ByteRange(out.start, out.start + out.length))
            result.bytes_scanned += out.bytes_read - sum(r.length for r in out.bad)
            done += out.length
            if on_progress is not None:
                on_progress(done, self.target.size)

        with ThreadPoolExecutor(opts.workers, thread_name_prefix="scan-match") as pool:
            pending: set[Future[_PageOutcome]] = set()
            for page in reader:
                pending.add(pool.submit(self._page, reader, page))
                while len(pending) >= opts.workers:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        collect(fut)
            for fut in wait(pending).done:
                collect(fut)

        result.seconds = time.monotonic() - began
        result.stats = dict(stats)
        result.pattern_ranges = _merge(pattern)
        for r in _merge(bad):
            result.not_scannable.append(Unscannable(str(r), "read error (EIO)"))
        for r in _merge(over_budget):
            result.not_scannable.append(
                Unscannable(str(r), "compressed streams beyond the inflate budget (zip bomb?)")
            )
        return result

    def _page(self, reader: PageReader, page: Page) -> _PageOutcome:
        try:
            return self._scan_page(page)
        finally:
            reader.release(page)

    def _scan_page(self, page: Page) -> _PageOutcome:
        opts = self.options
        kind = self._classify(page)
        out = _PageOutcome(
            Tally(), page.bad, kind, page.length, start=page.start, length=page.length
        )
        core_end = page.start + page.length
        if kind == "data":
            lo, keep_from = 0, page.start
        else:
            # Only a match starting in the last `margin` bytes can run into the next page.
            keep_from = max(page.start, core_end - opts.margin)
            lo = max(0, keep_from - opts.margin - page.window_start)
        if kind == "data":
            # The page's buffer is ours: restoring NTFS records in place costs no copy.
            apply_ntfs_fixups(page._buf, page.lead - page.start % 512, len(page.data))
        window = page.data[lo:]
        for f in self.matcher.scan(window, page.window_start + lo):
            # In a skipped page only a match running on into the next page is real: one that
            # lies wholly inside zeros or the wipe pattern is noise of the pattern itself.
            if keep_from <= f.offset < core_end and (
                kind == "data" or f.offset + f.length > core_end
            ):
                out.tally.add(f)
        if kind == "data":
            self._inflate_streams(page, out)
        return out

    def _classify(self, page: Page) -> str:
        core = page.core
        if not core:
            return "data"
        first = core[0]
        if first in _BLANK_BYTES and core[-1] == first and core[len(core) // 2] == first:
            uniform = self._uniform.get(first)
            if uniform is None or len(uniform) < len(core):
                uniform = bytes([first]) * self.options.page_size
                if len(self._uniform) < 4:
                    self._uniform[first] = uniform
            if uniform.startswith(core):
                return "uniform"
        expected = self.options.expected
        if expected is not None:
            want = expected(page.start, page.length)
            if not isinstance(want, bytes):
                want = bytes(want)
            if len(want) == page.length and want.startswith(core):
                return "pattern"
        return "data"

    def _inflate_streams(self, page: Page, out: _PageOutcome) -> None:
        limits = self.options.limits
        budget = limits.budget
        data, base = page.data, page.window_start

        def read(offset: int, length: int) -> bytes:
            # Serve from the page while the stream lies inside it, then from the target.
            if offset + length <= len(data):
                return bytes(data[offset : offset + length])
            return self.target.pread(base + offset, length)

        for stream in find_streams(data, page.lead, page.lead + page.length):
            if budget <= 0:
                out.over_budget = True
                return
            budget -= self._inflate(read, stream, base + stream.offset, 1, budget, out)

    def _inflate(
        self,
        read: Callable[[int, int], bytes],
        stream: Stream,
        where: int,
        depth: int,
        budget: int,
        out: _PageOutcome,
    ) -> int:
        """Inflate one stream, count its findings at `where`; returns output bytes spent."""
        limits = self.options.limits
        data = inflate(read, stream, limits, max_output=budget)
        if not data:
            return 0
        out.streams += 1
        out.inflated += len(data)
        for f in self.matcher.scan(data, 0):
            out.tally.add(f, offset=where)
        spent = len(data)
        if depth < limits.max_depth:
            inner = buffer_reader(data)
            for nested in find_streams(data):
                if budget - spent <= 0:
                    out.over_budget = True
                    break
                spent += self._inflate(inner, nested, where, depth + 1, budget - spent, out)
        return spent


def _merge(ranges: list[ByteRange]) -> list[ByteRange]:
    merged: list[ByteRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if merged and r.start <= merged[-1].end:
            merged[-1] = ByteRange(merged[-1].start, max(merged[-1].end, r.end))
        else:
            merged.append(r)
    return merged


def scan_raw(
    target: Target,
    matcher: Matcher,
    options: RawOptions | None = None,
    *,
    on_progress: Progress | None = None,
) -> PassResult:
    """Run the raw pass over `target` (see `RawScanner`)."""
    return RawScanner(target, matcher, options).run(on_progress)
