"""Read-back verification of an overwrite: a seeded sample or the whole device.

Reads use O_DIRECT so the page cache cannot answer for the device. The expected bytes are
regenerated at each offset (the keystream is seekable), in a worker thread while the read of the
same range is in flight; the comparison is libc `memcmp`, which runs without the GIL.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from wipe.overwrite import FaultRange
from wipe.pattern import Pattern
from wipe.target import Target, aligned_buffer, open_target

log = logging.getLogger(__name__)

MiB = 1024 * 1024
CHUNK = 8 * MiB
EDGE = 1 * MiB  # first and last MiB are always read: partition tables and backup GPT live there
SECTIONS = 64
FRACTION = 0.01
SAMPLE_BLOCK = 1 * MiB  # a sampled range; large so an HDD spends its time reading, not seeking
LOCATE = 4096  # granularity of reported mismatches
# Chunks in flight: two reads queued keep a device busy while a third chunk is compared (one read
# in flight left a disk-backed device idle between reads: 0.79 of dd's read rate).
DEPTH = 3
MAX_REPORTED = 1000  # mismatched ranges listed; the byte count covers all of them

_libc = ctypes.CDLL(None, use_errno=True)
_libc.memcmp.restype = ctypes.c_int
_libc.memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a read-back found."""

    device: str
    method: str  # sample | full | markers
    expected: str  # zeros | ones | random | changed | any
    coverage: float  # fraction of the device's bytes that were read and compared
    bytes_read: int
    seconds: float
    seed: int | None = None
    sections: int = 0
    mismatches: tuple[FaultRange, ...] = ()
    mismatched_bytes: int = 0
    read_errors: tuple[FaultRange, ...] = ()
    notes: tuple[str, ...] = ()
    aborted: bool = False
    # Reads that failed once and succeeded on the retry: the bytes were compared, but the
    # assurance record names these ranges (a drive that needs retries is a weak drive).
    retried: tuple[FaultRange, ...] = ()

    @property
    def passed(self) -> bool:
        """True when everything read matched and nothing was unreadable."""
        return not (self.aborted or self.mismatched_bytes or self.read_errors)

    @property
    def outcome(self) -> str:
        """`passed`, `failed` or `aborted`."""
        if self.aborted:
            return "aborted"
        return "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        """The `verification` object of the wipe result JSON."""
        return {
            "method": self.method,
            "expected": self.expected,
            "coverage": round(self.coverage, 6),
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "mb_per_s": round(self.bytes_read / self.seconds / 1e6, 1) if self.seconds else 0.0,
            "seed": self.seed,
            "sections": self.sections,
            "mismatches": [r.to_dict() for r in self.mismatches],
            "mismatched_bytes": self.mismatched_bytes,
            "read_errors": [r.to_dict() for r in self.read_errors],
            "retried": [r.to_dict() for r in self.retried],
            "notes": list(self.notes),
            "outcome": self.outcome,
        }


def new_seed() -> int:
    """A seed from the OS, below 2**53 so it survives a round trip through JSON numbers."""
    return int.from_bytes(os.urandom(6), "big")


def sample_ranges(
    size: int,
    *,
    seed: int,
    sector_size: int = 512,
    sections: int = SECTIONS,
    fraction: float = FRACTION,
) -> list[tuple[int, int]]:
    """The byte ranges a sample verification reads, sorted and merged.

    The first and last MiB, plus random blocks in each of `sections` equal sections, at least
    `fraction` of every section. The same seed always gives the same ranges, so a recorded seed
    lets anyone repeat the check.
    """
    rng = random.Random(seed)
    end = size - size % sector_size
    picked = [(0, min(EDGE, size)), (max(0, end - EDGE), min(EDGE, end))]
    section = max(sector_size, (end // max(1, sections)) // sector_size * sector_size)
    for start in range(0, end, section):
        stop = min(end, start + section)
        block = min(SAMPLE_BLOCK, stop - start)
        slots = max(1, (stop - start) // block)
        want = min(slots, -(-int((stop - start) * fraction) // block) or 1)
        for slot in rng.sample(range(slots), want):
            picked.append((start + slot * block, block))
    if size > end:  # an image's odd tail past the last whole sector
        picked.append((end, size - end))
    return merge_spans(picked)


def verify(
    target: Target | str | os.PathLike[str],
    pattern: Pattern,
    *,
    method: str = "sample",
    seed: int | None = None,
    sections: int = SECTIONS,
    fraction: float = FRACTION,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VerificationResult:
    """Read back `target` and compare it with `pattern` regenerated at every offset.

    Args:
        target: the open target of the overwrite, or a path (opened read-only, exclusively).
        pattern: the pattern of the last pass (its key, for the keystream).
        method: `sample` (seeded ranges, see `sample_ranges`) or `full`.
        seed: the sample's seed; drawn from the OS (and recorded) when None.
        sections: equal sections a sample draws from.
        fraction: least share of every section a sample reads.
        on_progress: called with (bytes compared, bytes to compare).
        cancel: when set, stops and reports `aborted`.

    Raises:
        DeviceGone: the device disappeared while being read.
    """
    if method not in ("sample", "full"):
        raise ValueError(f"unknown verification method {method!r}; expected sample or full")
    if not isinstance(target, Target):
        with open_target(target, write=False) as opened:
            return verify(
                opened,
                pattern,
                method=method,
                seed=seed,
                sections=sections,
                fraction=fraction,
                on_progress=on_progress,
                cancel=cancel,
            )
    if method == "full":
        spans, seed, sections = [(0, target.size)], None, 0
    else:
        seed = new_seed() if seed is None else seed
        spans = sample_ranges(
            target.size,
            seed=seed,
            sector_size=target.sector_size,
            sections=sections,
            fraction=fraction,
        )
    comparer = Comparer(target, on_progress, cancel)
    comparer.compare(spans, pattern)
    return comparer.result(method, pattern.name, seed=seed, sections=sections)


class Comparer:
    """Reads ranges of a target and compares them with expected bytes, recording differences."""

    def __init__(
        self,
        target: Target,
        on_progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.target, self.on_progress, self.cancel = target, on_progress, cancel
        # DEPTH read and expected buffers: chunk i is compared while the next ones are read.
        self._reads = [aligned_buffer(CHUNK) for _ in range(DEPTH)]
        self._expects = [aligned_buffer(CHUNK) for _ in range(DEPTH)]
        self.read_buf = self._reads[0]  # what `read()` fills, for callers that look at bytes
        self._read_at = [_address(b) for b in self._reads]
        self._expect_at = [_address(b) for b in self._expects]
        self.mismatches: list[FaultRange] = []
        self.mismatched = 0
        self.read_errors: list[FaultRange] = []
        self.retried: list[FaultRange] = []  # appended from reader threads (list.append is atomic)
        self.bytes_read = 0
        self.aborted = False
        self.notes: list[str] = []
        self._start = time.monotonic()

    def chunks(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Split spans into reads of at most one buffer, never crossing the direct-I/O end."""
        out: list[tuple[int, int]] = []
        cut = self.target.direct_end
        for offset, length in spans:
            pos, stop = offset, offset + length
            while pos < stop:
                limit = cut if pos < cut else stop
                n = min(CHUNK, stop - pos, limit - pos)
                out.append((pos, n))
                pos += n
        return out

    def compare(self, spans: list[tuple[int, int]], pattern: Pattern) -> None:
        """Compare every span with `pattern`.

        Reads of the next chunks and the generation of their expected bytes run in worker
        threads (both release the GIL) while this thread compares the current chunk, so the
        device always has reads queued. Results are recorded here, in device order.
        """
        filler = pattern.filler(CHUNK)
        todo = self.chunks(spans)
        total = sum(n for _, n in todo)
        if filler.fixed is not None:  # a constant: one buffer serves every slot, filled once
            memoryview(self._expects[0])[:CHUNK] = filler.fixed
        with (
            ThreadPoolExecutor(max_workers=DEPTH - 1, thread_name_prefix="verify-read") as readers,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-pattern") as generator,
        ):

            def start(i: int) -> tuple[Future[OSError | None], Future[None] | None]:
                offset, n = todo[i]
                slot = i % DEPTH
                read = readers.submit(self._attempt, memoryview(self._reads[slot])[:n], offset)
                gen = None
                if filler.fixed is None:
                    expect = memoryview(self._expects[slot])[:n]
                    gen = generator.submit(filler.fill, expect, offset)
                return read, gen

            pending = deque(start(i) for i in range(min(DEPTH - 1, len(todo))))
            try:
                for i, (offset, n) in enumerate(todo):
                    if i + DEPTH - 1 < len(todo):
                        # Slot (i + DEPTH - 1) % DEPTH was compared last round: free to refill.
                        pending.append(start(i + DEPTH - 1))
                    read, gen = pending.popleft()
                    error = read.result()
                    if gen is not None:
                        gen.result()
                    if self.cancel is not None and self.cancel.is_set():
                        self.aborted = True
                        return
                    if self._record(offset, n, error):
                        slot = i % DEPTH
                        self._diff(slot, slot if filler.fixed is None else 0, offset, n)
                    if self.on_progress is not None:
                        self.on_progress(self.bytes_read, total)
            finally:
                # Aborted, or the device is gone: queued reads must not run on.
                for later_read, later_gen in pending:
                    later_read.cancel()
                    if later_gen is not None:
                        later_gen.cancel()

    def read(self, offset: int, n: int) -> bool:
        """Read [offset, offset+n) into `read_buf`; record an unreadable range."""
        return self._record(offset, n, self._attempt(memoryview(self.read_buf)[:n], offset))

    def _attempt(self, view: memoryview, offset: int) -> OSError | None:
        """Fill `view` from `offset` (one retry); the error when it could not be read."""
        n = len(view)
        last: OSError | None = None
        for _ in range(2):
            try:
                got = self.target.read_into(view, offset)
            except OSError as e:
                self.target.check_error(e)
                last = e
                continue
            if got == n:
                if last is not None:
                    self.retried.append(
                        FaultRange(offset, n, last.errno or None, last.strerror or "")
                    )
                return None
            return OSError(0, f"short read: {got} of {n} bytes")
        return last

    def _record(self, offset: int, n: int, error: OSError | None) -> bool:
        if error is None:
            self.bytes_read += n
            return True
        self.read_errors.append(FaultRange(offset, n, error.errno or None, error.strerror or ""))
        return False

    def _diff(self, read_slot: int, expect_slot: int, offset: int, n: int) -> None:
        """Record the 4 KiB blocks of a read that differ from the expected buffer."""
        got, want = self._read_at[read_slot], self._expect_at[expect_slot]
        if _libc.memcmp(got, want, n) == 0:
            return
        for sub in range(0, n, LOCATE):
            m = min(LOCATE, n - sub)
            if _libc.memcmp(got + sub, want + sub, m) != 0:
                self.add_mismatch(offset + sub, m)

    def add_mismatch(self, offset: int, length: int) -> None:
        """Record a differing range (merged with the previous one when they touch)."""
        self.mismatched += length
        last = self.mismatches[-1] if self.mismatches else None
        if last is not None and last.end == offset:
            self.mismatches[-1] = FaultRange(last.offset, last.length + length)
        elif len(self.mismatches) < MAX_REPORTED:
            self.mismatches.append(FaultRange(offset, length))

    def result(
        self, method: str, expected: str, *, seed: int | None = None, sections: int = 0
    ) -> VerificationResult:
        """Freeze what was found into a result."""
        size = self.target.size
        return VerificationResult(
            device=self.target.path,
            method=method,
            expected=expected,
            coverage=self.bytes_read / size if size else 0.0,
            bytes_read=self.bytes_read,
            seconds=time.monotonic() - self._start,
            seed=seed,
            sections=sections,
            mismatches=tuple(self.mismatches),
            mismatched_bytes=self.mismatched,
            read_errors=tuple(self.read_errors),
            notes=tuple(self.notes),
            aborted=self.aborted,
            retried=tuple(sorted(self.retried, key=lambda r: r.offset)),
        )


def _address(buf: mmap.mmap) -> int:
    """Address of a buffer for libc; the ctypes view keeps the mmap from being closed early."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort spans and join the overlapping or touching ones."""
    merged: list[tuple[int, int]] = []
    for offset, length in sorted(s for s in spans if s[1] > 0):
        if merged and merged[-1][0] + merged[-1][1] >= offset:
            last_off, last_len = merged[-1]
            merged[-1] = (last_off, max(last_off + last_len, offset + length) - last_off)
        else:
            merged.append((offset, length))
    return merged
