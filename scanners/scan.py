"""Scan a whole target: the raw pass, then the file pass, combined into one `ScanReport`."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

from scanners.errors import UnreadableTarget, error_kind
from scanners.extents import map_target
from scanners.files import FileOptions, FileScanner
from scanners.inflate import Limits
from scanners.pathnames import PathRedactor
from scanners.raw import ExpectedPattern, RawOptions, RawScanner
from scanners.report import PassResult, ScanReport, Unscannable, combine
from scanners.target import Span, Target
from scanners.walklog import WalkLog

if TYPE_CHECKING:
    from scanners.files import TextScanner
    from scanners.filework import Done, Offload
    from scanners.findings import Finding, ValueHasher
    from scanners.pool import SharedPool

log = logging.getLogger(__name__)

PASSES = ("raw", "files")
# (pass name, bytes done, bytes total or 0 when unknown)
ScanProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Which passes to run and how."""

    passes: tuple[str, ...] = PASSES
    raw: RawOptions = field(default_factory=RawOptions)
    files: FileOptions = field(default_factory=FileOptions)
    expected: ExpectedPattern | None = None  # the wipe pattern a post-wipe scan expects
    # Map the file systems' extents first, so no byte is matched twice and every location says
    # its allocation (see `scanners.extents`); False gives the old overlapping passes.
    map_extents: bool = True


def scan(
    path: str | os.PathLike[str],
    hasher: ValueHasher,
    options: ScanOptions | None = None,
    *,
    on_progress: ScanProgress | None = None,
) -> ScanReport:
    """Scan `path` (block device or image file, opened read-only) for personal data.

    Args:
        path: the target.
        hasher: keyed hash for the batch, so distinct counts compare across devices of a batch.
        options: passes, limits, and the expected wipe pattern.
        on_progress: called with (pass, bytes done, bytes total) as the scan advances.

    Raises:
        UnreadableTarget: the target cannot be opened, or disappeared during the scan.
    """
    from scanners.fastpath import RawMatcher

    options = options or ScanOptions()
    if "raw" in options.passes and "files" in options.passes:
        options = replace(options, raw=replace(options.raw, limits=_tail_as_files(options)))
    matcher = RawMatcher(hasher)
    results: list[PassResult] = []
    with Target(path) as target, ExitStack() as stack, _collecting_what_the_scan_makes():
        both = "raw" in options.passes and "files" in options.passes
        shared = _shared_pool(target, options, hasher)
        if shared is not None:
            stack.enter_context(shared)
            options = replace(
                options,
                raw=replace(options.raw, pool=shared),
                # The workers are there from the start: the file pass need not match a second
                # in its own thread to decide whether starting them is worth it.
                files=replace(options.files, processes_from=0)
                if both and options.files.processes_from is not None
                else options.files,
            )
        extents = None
        walk_log = WalkLog() if both else None  # the file pass goes through the map's walks
        if "raw" in options.passes and options.map_extents:
            redactor = PathRedactor(matcher)
            try:
                extents = map_target(
                    target,
                    decoded_by_files=both,
                    file_limit=options.files.max_file_bytes,
                    redact=redactor.redact_only,
                    inflate_limits=options.raw.limits,
                    walk_log=walk_log,
                    pool=shared,
                    prefilter=redactor.prefilter,
                )
            except UnreadableTarget:
                raise
            except Exception as e:  # no map: each pass reads everything itself, as before
                log.debug("mapping %s failed: %s", target.path, type(e).__name__)
            gc.freeze()  # the map lives as long as the scan
        if "raw" in options.passes:
            raw_options = replace(
                options.raw,
                expected=options.expected,
                matcher_factory=options.raw.matcher_factory or partial(RawMatcher, hasher),
                locator=extents,
            )
            raw = _guarded(
                "raw",
                target,
                lambda: RawScanner(target, matcher, raw_options).run(
                    _pass_progress("raw", on_progress)
                ),
            )
            if raw.stopped:  # the raw pass did not read the plain files: the file pass must
                extents = None
            results.append(raw)
        if "files" in options.passes:
            file_options = options.files
            if results:
                file_options = replace(
                    file_options,
                    raw_covers=True,
                    pattern_ranges=tuple(results[0].pattern_ranges),
                )
            text = _LazyTextDetector(hasher)
            scanner = FileScanner(
                target,
                text,
                matcher,
                file_options,
                extents=extents if both else None,
                names=text.names,
                offload=_offload(file_options, options.raw, hasher, shared),
                walk_log=walk_log,
            )
            results.append(
                _guarded("files", target, lambda: scanner.run(_pass_progress("files", on_progress)))
            )
        return combine(str(path), target.size, results)


@contextmanager
def _collecting_what_the_scan_makes() -> Iterator[None]:
    """The cyclic garbage collector looks only at objects made during the scan.

    Its full collections traversed every object of the process, the imported packages' too:
    in the scan process of the 1.02 GB mixed image 6 of them took 0.22 s, and all of its
    collections 0.43 s, part of it while the file systems were mapped with a core idle.
    `gc.freeze` moves the objects that exist now (and, later, the extent map) out of its
    reach; `gc.unfreeze` gives them back when the scan ends, so a process that scans drive
    after drive collects them as before.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _offload(
    files: FileOptions, raw: RawOptions, hasher: ValueHasher, shared: SharedPool | None = None
) -> Callable[[Callable[[str, Done, object], None]], Offload] | None:
    """How the file pass starts its worker processes (`FileOptions.processes_from`)."""
    if files.processes_from is None or files.workers < 2:
        return None
    from scanners.fastpath import RawMatcher
    from scanners.filework import Offload

    factory = raw.matcher_factory or partial(RawMatcher, hasher)
    return partial(Offload, factory, hasher, workers=files.workers, pool=shared)


def _tail_as_files(options: ScanOptions) -> Limits:
    """The raw pass's limits, reading each stream at least as far as the file pass unpacks one.

    The raw pass reads the gzip'd text the map gives it in the file pass's place (`extents`).
    """
    limits, files = options.raw.limits, options.files.limits
    unpacked = min(files.max_member, files.max_total)
    return replace(limits, min_tail_output=max(limits.min_tail_output, unpacked))


def _shared_pool(target: Target, options: ScanOptions, hasher: ValueHasher) -> SharedPool | None:
    """The scan's worker processes for both passes (`scanners.pool`), starting now; or None.

    Only where the raw pass would start its own (a large target, processes allowed) and the
    target holds a file system: a wiped drive's pages are zeros or the wipe pattern, which
    need no worker, and its scan stays as quick as it was without them.
    """
    raw = options.raw
    if (
        "raw" not in options.passes
        or raw.processes_from is None
        or raw.workers < 2
        or target.size < raw.processes_from
    ):
        return None

    from scanners.filesystems import WALKABLE
    from scanners.volumes import TargetStream, buffered, find_volumes

    try:
        fh = buffered(TargetStream(target))
        volumes, _ = find_volumes(fh, target.size)
    except UnreadableTarget:
        raise
    except Exception as e:  # the passes will say what they make of it
        log.debug("looking for file systems on %s failed: %s", target.path, type(e).__name__)
        return None
    if not any(volume.kind in WALKABLE for volume in volumes):
        return None
    from scanners.fastpath import RawMatcher
    from scanners.pool import SharedPool

    factory = raw.matcher_factory or partial(RawMatcher, hasher)
    return SharedPool(factory, hasher, workers=raw.workers)


def _guarded(name: str, target: Target, run: Callable[[], PassResult]) -> PassResult:
    """Run one pass; a parser bug stops only that pass, not the scan.

    The stopped pass reports the whole target as not scannable by it, so the other pass's
    findings are still reported and the scan is never taken for clean.
    """
    try:
        return run()
    except UnreadableTarget:
        raise
    except Exception as e:
        # The error's kind only: parser messages can quote bytes of the drive.
        log.debug("%s pass failed on %s: %s", name, target.path, type(e).__name__)
        result = PassResult(name)
        result.stopped = True
        result.not_scannable.append(
            Unscannable(
                f"whole target ({Span(0, target.size)})", f"{name} pass stopped: {error_kind(e)}"
            )
        )
        return result


class _LazyTextDetector:
    """Builds Presidio (about a second) only when a file has text: a wiped drive has none."""

    def __init__(self, hasher: ValueHasher) -> None:
        self._hasher = hasher
        self._detector: TextScanner | None = None

    def scan(self, text: str) -> list[Finding]:
        """Findings in `text` (see `scanners.text.TextDetector`)."""
        if self._detector is None:
            from scanners.text import TextDetector

            self._detector = TextDetector(self._hasher)
        return self._detector.scan(text)

    def names(self, text: str) -> list[Finding]:
        """Person names in `text` by the lexicon rules alone (no Presidio to build)."""
        from scanners.names import name_findings

        return name_findings(text, self._hasher)


def _pass_progress(
    name: str, on_progress: ScanProgress | None
) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None

    def report(done: int, total: int) -> None:
        on_progress(name, done, total)

    return report
