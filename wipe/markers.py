"""Evidence that a firmware erase really happened: marker sectors and a before/after sample.

A drive's own sanitize or format command only reports success; some lie (QEMU's FORMAT UNIT
reports success and changes nothing, hdparm exits 0 when the drive aborts). So before the erase
random markers are written at spread-out offsets and their hashes kept, together with hashes of
a seeded sample; after it, every marker must be gone and the sample must hold what the command
promises: zeros, ones, or, for a crypto erase, anything but what was there before.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from wipe.errors import VerificationFailed
from wipe.pattern import Pattern
from wipe.target import Target, aligned_buffer
from wipe.verification import (
    CHUNK,
    Comparer,
    Progress,
    VerificationResult,
    merge_spans,
    new_seed,
    sample_ranges,
)

MARKER_SIZE = 64 * 1024
MARKERS = 32
EXPECTATIONS = ("zeros", "ones", "changed", "any")


@dataclass(frozen=True, slots=True)
class Marker:
    """A range whose content (by hash) is known from before the erase."""

    offset: int
    length: int
    sha256: str


@dataclass(frozen=True, slots=True)
class EraseEvidence:
    """What `plant_markers` recorded before a firmware erase."""

    device: str
    size_bytes: int
    seed: int
    markers: tuple[Marker, ...]
    samples: tuple[Marker, ...]


def plant_markers(
    target: Target, *, count: int = MARKERS, seed: int | None = None
) -> EraseEvidence:
    """Write random markers and hash a seeded sample, before a firmware erase.

    Raises:
        VerificationFailed: a marker did not read back (the erase could not be checked later).
        DeviceGone: the device disappeared.
    """
    seed = new_seed() if seed is None else seed
    rng = random.Random(seed)
    size = min(MARKER_SIZE, target.direct_end)
    buf = aligned_buffer(size)
    view = memoryview(buf)[:size]
    markers: list[Marker] = []
    for offset in _marker_offsets(target, count, size, rng):
        view[:] = os.urandom(size)
        digest = hashlib.sha256(view).hexdigest()
        _io(target, lambda o=offset: target.write(view, o))
        markers.append(Marker(offset, size, digest))
    _io(target, target.sync)
    for marker in markers:
        _io(target, lambda m=marker: target.read_into(view, m.offset))
        if hashlib.sha256(view).hexdigest() != marker.sha256:
            raise VerificationFailed(
                target.path, f"marker at byte {marker.offset} did not read back before the erase"
            )
    samples = [
        Marker(offset, length, _hash_range(target, offset, length))
        for offset, length in _sample_blocks(target, seed)
    ]
    return EraseEvidence(target.path, target.size, seed, tuple(markers), tuple(samples))


def check_erase(
    target: Target,
    evidence: EraseEvidence,
    expected: str,
    *,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VerificationResult:
    """After the erase: every marker gone, and the sample as `expected` promises.

    Args:
        target: the target, still held open since `plant_markers`.
        evidence: what `plant_markers` recorded.
        on_progress: called with (bytes compared, bytes to compare).
        cancel: when set, stops and reports `aborted`.
        expected: `zeros`, `ones`, `changed` (crypto erase: differs from before) or `any`
            (the command promises nothing about content; only the markers are checked).
    """
    if expected not in EXPECTATIONS:
        raise ValueError(f"unknown expectation {expected!r}")
    comparer = Comparer(target, on_progress, cancel)
    survivors = []
    for marker in evidence.markers:
        if comparer.read(marker.offset, marker.length):
            now = hashlib.sha256(memoryview(comparer.read_buf)[: marker.length]).hexdigest()
            if now == marker.sha256:
                survivors.append(marker)
    if survivors:
        comparer.notes.append(
            f"{len(survivors)} of {len(evidence.markers)} markers survived the erase"
        )
    if expected in ("zeros", "ones"):
        # Markers and sample alike must now hold the promised constant.
        comparer.bytes_read = 0
        spans = [(m.offset, m.length) for m in (*evidence.markers, *evidence.samples)]
        comparer.compare(merge_spans(spans), Pattern.named(expected))
    else:
        for marker in survivors:
            comparer.add_mismatch(marker.offset, marker.length)
        if expected == "changed":
            _check_changed(comparer, evidence)
    return comparer.result("markers", expected, seed=evidence.seed)


def _check_changed(comparer: Comparer, evidence: EraseEvidence) -> None:
    unknown = 0
    for sample in evidence.samples:
        if not comparer.read(sample.offset, sample.length):
            continue
        after = hashlib.sha256(memoryview(comparer.read_buf)[: sample.length]).hexdigest()
        if after != sample.sha256:
            continue
        if sample.sha256 == hashlib.sha256(bytes(sample.length)).hexdigest():
            unknown += 1  # zeros before and after: nothing was there to erase, nothing proven
        else:
            comparer.add_mismatch(sample.offset, sample.length)
    if unknown:
        comparer.notes.append(f"{unknown} sampled blocks read zeros before and after")


def _marker_offsets(target: Target, count: int, size: int, rng: random.Random) -> list[int]:
    """Spread markers: one at the start, one at the end, the rest in equal slots between."""
    end = target.direct_end - size
    align = max(4096, target.sector_size)
    if end <= 0:
        return [0]
    slot = end // max(1, count - 1)
    offsets = {0, end - end % align}
    for i in range(1, count - 1):
        jitter = rng.randrange(max(1, slot - size)) if slot > size else 0
        offsets.add((i * slot + jitter) // align * align)
    return sorted(o for o in offsets if o + size <= target.direct_end)


def _sample_blocks(target: Target, seed: int) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    for offset, length in sample_ranges(target.size, seed=seed, sector_size=target.sector_size):
        stop = min(offset + length, target.direct_end)
        for pos in range(offset, stop, CHUNK):
            blocks.append((pos, min(CHUNK, stop - pos)))
    return blocks


def _hash_range(target: Target, offset: int, length: int) -> str:
    buf = aligned_buffer(length)
    view = memoryview(buf)[:length]
    _io(target, lambda: target.read_into(view, offset))
    return hashlib.sha256(view).hexdigest()


def _io(target: Target, call: Callable[[], object]) -> None:
    try:
        call()
    except OSError as e:
        target.check_error(e)
        raise VerificationFailed(target.path, f"marker I/O failed: {e.strerror}") from e
