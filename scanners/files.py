"""The file pass: partitions, file systems and documents, read-only, each finding tied to a path.

Volumes come from `scanners.volumes`, files from `scanners.filesystems`, text from
`scanners.formats`. Extracted text goes through the text detector (Presidio: names, and context
over the whole document), up to `nlp_max_chars` characters per file; the text of a larger file
goes through the fast path instead (same identifier rules, no names), since Presidio runs at well
under 1 MB/s. Bytes of unknown formats always go through the fast path. Each piece of text is
handled by exactly one detector, so nothing is counted twice within the pass.

What cannot be read (encrypted volumes, corrupt file systems, unreadable sectors, encrypted
documents) is reported as not scannable.
When the raw pass also runs (`raw_covers`), regions it reads byte by byte (unknown partitions,
oversized files) are not reported again; encrypted and corrupt ones always are.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO, Protocol

from scanners import formats
from scanners.errors import error_kind
from scanners.filesystems import WALKABLE, FileRef, Problem, walk
from scanners.pathnames import PathRedactor
from scanners.report import PassResult, Unscannable
from scanners.target import Span
from scanners.volumes import TargetStream, Volume, find_volumes, open_volume

if TYPE_CHECKING:
    from scanners.findings import Finding
    from scanners.raw import Matcher
    from scanners.target import Target

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
TEXT_CHUNK = 1 << 20  # characters handed to the text detector at once (split at line ends)


class TextScanner(Protocol):
    """The detectors' text path (`scanners.text.TextDetector`)."""

    def scan(self, text: str) -> list[Finding]:
        """Findings in `text` (character offsets)."""
        ...


@dataclass(frozen=True, slots=True)
class FileOptions:
    """Limits of the file pass."""

    # Larger files are left to the raw pass; with the text and its copies this bounds memory.
    max_file_bytes: int = 32 << 20
    nlp_max_chars: int = 1 << 20  # text per file for Presidio; beyond it, the fast path
    limits: formats.Limits = field(default_factory=formats.Limits)
    raw_covers: bool = False  # the raw pass reads every byte of this target too
    pattern_ranges: tuple[Span, ...] = ()  # ranges the raw pass found to be the wipe pattern


class FileScanner:
    """Runs the file pass over one target."""

    def __init__(
        self,
        target: Target,
        text: TextScanner,
        matcher: Matcher,
        options: FileOptions | None = None,
    ) -> None:
        self.target = target
        self.text = text
        self.matcher = matcher
        self.options = options or FileOptions()
        self.stream = TargetStream(target)
        self.fh: BinaryIO = io.BufferedReader(self.stream, buffer_size=1 << 20)  # type: ignore[arg-type]
        self.result = PassResult("files")
        self._progress: Progress | None = None
        self._nlp_left = 0
        self.names = PathRedactor(matcher)
        self._members: dict[str, str] = {}  # member paths of the current file, redacted

    def run(self, on_progress: Progress | None = None) -> PassResult:
        """Walk every volume and file; returns the pass's tally and what it could not read."""
        began = time.monotonic()
        self._progress = on_progress
        volumes, scheme = find_volumes(self.fh, self.target.size, self.target.sector_size)
        self.result.stats["volumes"] = len(volumes)
        log.debug("partition table: %s, volumes: %s", scheme, volumes)
        for volume in volumes:
            self._volume(volume, single=len(volumes) == 1 and volume.label == "whole disk")
        self.result.bytes_scanned = self.stream.bytes_read
        self.result.seconds = time.monotonic() - began
        return self.result

    def _unscannable(self, region: str, reason: str) -> None:
        self.result.not_scannable.append(Unscannable(region, reason))

    def _path(self, path: str) -> str:
        """`path` with values in its names cut out; the values count as findings."""
        redacted, found = self.names.redact(path)
        for finding, where in found:
            self.result.tally.add(finding, file=where)
        return redacted

    def _volume(self, volume: Volume, *, single: bool) -> None:
        opts = self.options
        if volume.kind in ("encrypted", "invalid"):
            self._unscannable(volume.region, volume.reason)
            return
        if volume.kind == "random":
            if not self._is_pattern(volume):
                self._unscannable(volume.region, volume.reason)
            return
        if volume.kind not in WALKABLE:
            if not opts.raw_covers:
                self._unscannable(
                    volume.region, volume.reason or "no file system recognized; raw pass not run"
                )
            return
        prefix = "" if single else f"{volume.label}:"
        try:
            entries = walk(volume.kind, open_volume(self.fh, volume))
            for entry in entries:
                if isinstance(entry, Problem) and entry.scanned:
                    self.result.stats["directory_loops"] = (
                        self.result.stats.get("directory_loops", 0) + 1
                    )
                elif isinstance(entry, Problem):
                    self._unscannable(self._path(prefix + entry.path), entry.reason)
                else:
                    self._file(prefix, entry)
        except Exception as e:  # a corrupt file system must not stop the scan
            # The error's kind only: parser messages can quote bytes of the drive.
            log.debug("file system on %s failed: %s", volume.region, type(e).__name__)
            self._unscannable(
                volume.region, f"{volume.kind} file system could not be read: {error_kind(e)}"
            )
        self.result.stats[f"volumes_{volume.kind}"] = (
            self.result.stats.get(f"volumes_{volume.kind}", 0) + 1
        )

    def _is_pattern(self, volume: Volume) -> bool:
        end = volume.offset + volume.size
        return any(r.start <= volume.offset and end <= r.end for r in self.options.pattern_ranges)

    def _file(self, prefix: str, ref: FileRef) -> None:
        # Every path below is the redacted one: formats, logs and the report never see a value.
        path = self._path(prefix + ref.path)
        self._members = {path: path}
        stats = self.result.stats
        if ref.size > self.options.max_file_bytes:
            stats["files_too_large"] = stats.get("files_too_large", 0) + 1
            if not self.options.raw_covers:
                self._unscannable(path, f"file of {ref.size} bytes is over the file-pass limit")
            return
        self._nlp_left = self.options.nlp_max_chars
        bad_before = len(self.stream.bad)
        try:
            with ref.open() as fh:
                data = fh.read(ref.size)
        except Exception as e:
            self._unscannable(path, f"file could not be read: {error_kind(e)}")
            return
        if len(self.stream.bad) > bad_before:
            self._unscannable(path, "unreadable sectors (EIO) in the file's data")
        stats["files"] = stats.get("files", 0) + 1
        self.result.bytes_scanned = self.stream.bytes_read
        for item in formats.extract(path, data, budget=formats.Budget(self.options.limits)):
            self._item(item)
        if self._progress is not None:
            self._progress(self.result.bytes_scanned, 0)

    def _item(self, item: formats.Extracted) -> None:
        tally = self.result.tally
        redacted = self._members.get(item.path)
        if redacted is None:  # an archive member's own name, counted once
            redacted = self._members[item.path] = self._path(item.path)
        if redacted != item.path:
            item = replace(item, path=redacted)
        if item.problem is not None:
            self._unscannable(item.path, item.problem)
        if item.raw is not None:
            for f in self.matcher.scan(item.raw, 0):
                tally.add(f, file=item.path)
        if not item.text:
            return
        if len(item.text) <= self._nlp_left:
            self._nlp_left -= len(item.text)
            for chunk in _chunks(item.text, TEXT_CHUNK):
                for f in self.text.scan(chunk):
                    tally.add(f, file=item.path)
            return
        self.result.stats["texts_fast_path"] = self.result.stats.get("texts_fast_path", 0) + 1
        for f in self.matcher.scan(item.text.encode("utf-8"), 0):
            tally.add(f, file=item.path)


def _chunks(text: str, size: int) -> list[str]:
    """Split long text at line ends, so no chunk cuts an identifier in two."""
    if len(text) <= size:
        return [text]
    chunks = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        chunks.append(text[start:end])
        start = end
    return chunks
