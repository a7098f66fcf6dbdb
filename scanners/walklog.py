"""The map's walk of each file system, kept so that the file pass need not walk it again.

The map (`scanners.extents.map_target`) walks every file system with dissect, and the file pass
walked each one a second time, redacted every path again and parsed every file's runs again:
on the 1.02 GB mixed image (5,416 files) that was about a second of the parent's CPU while two
workers matched, the full scan's third busy process on two cores. With both passes the map now
keeps, in walk order, what the file pass needs of each entry: a file stored in plain runs as its
path, redacted path, size and runs (`PlainFile`, a few hundred bytes); a file that only dissect
can read (kept inside metadata, compressed, runs off its volume) and every `Problem` as the walk
gave them; and the error that stopped a walk. The file pass goes through that log instead.

Memory is bounded whatever the drive holds: past `MAX_FILES` entries, `MAX_RUNS` runs or
`MAX_REFS` dissect files (about 6 KB each, with their parsed inode), a volume's log is dropped
and the file pass walks that volume itself, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.errors import error_kind

if TYPE_CHECKING:
    from scanners.filesystems import FileRef, Problem
    from scanners.runfile import Run
    from scanners.volumes import Volume

MAX_FILES = 100_000  # entries kept over all volumes (a PlainFile: about 450 bytes, 45 MB)
MAX_RUNS = 250_000  # runs kept over all volumes (~120 bytes each)
MAX_REFS = 1_000  # files kept as dissect gave them (~6 KB each)


@dataclass(slots=True)
class PlainFile:
    """A live file whose content lies in plain runs on its volume: readable without dissect.

    `readable` is set when the map's judgement of its head comes back (`scanners.heads`).
    """

    path: str  # as walked, with the volume's prefix
    shown: str  # `path` with values cut out (`PathRedactor.redact_only`)
    size: int
    runs: tuple[Run, ...]  # `runfile.plain_runs`: volume offsets (None: a hole), lengths
    readable: bool  # the raw pass reads its bytes as they are (`ExtentMap.raw_readable`)


@dataclass(frozen=True, slots=True)
class Stopped:
    """The walk ended with an error here (a corrupt file system); entries before it stand."""

    kind: str  # the exception's type name, for the debug log
    reason: str  # `errors.error_kind` of it, as the file pass reports it


@dataclass(slots=True)
class VolumeWalk:
    """One volume's entries in walk order; `complete` once its walk ended within the bounds."""

    entries: list[PlainFile | FileRef | Problem | Stopped] = field(default_factory=list)
    complete: bool = False


class WalkLog:
    """The walks of a target's volumes, keyed by where each volume lies and what it holds."""

    def __init__(
        self, max_files: int = MAX_FILES, max_runs: int = MAX_RUNS, max_refs: int = MAX_REFS
    ) -> None:
        self._walks: dict[tuple[int, int, str], VolumeWalk] = {}
        self._files_left = max_files
        self._runs_left = max_runs
        self._refs_left = max_refs
        self._now: VolumeWalk | None = None
        self._now_key: tuple[int, int, str] | None = None

    def begin(self, volume: Volume) -> None:
        """The map starts walking `volume`; its entries follow until `end` or `stop`."""
        self._now, self._now_key = VolumeWalk(), _key(volume)
        self._walks[self._now_key] = self._now

    def plain(self, file: PlainFile) -> None:
        """A file the file pass can read along its runs."""
        self._keep(file, runs=len(file.runs))

    def ref(self, entry: FileRef | Problem) -> None:
        """A file only dissect can read, or a problem: kept as the walk gave it."""
        from scanners.filesystems import FileRef

        self._keep(entry, refs=1 if isinstance(entry, FileRef) else 0)

    def stop(self, e: Exception) -> None:
        """The walk failed here: the file pass reports the file system as not scannable."""
        if self._now is not None:
            self._now.entries.append(Stopped(type(e).__name__, error_kind(e)))
        self.end()

    def drop(self) -> None:
        """The map could not take the current volume's entries: the file pass walks it."""
        self._walks.pop(self._now_key, None)
        self._now = None

    def end(self) -> None:
        """The walk of the current volume is over."""
        if self._now is not None:
            self._now.complete = True
        self._now = None

    def take(self, volume: Volume) -> list[PlainFile | FileRef | Problem | Stopped] | None:
        """`volume`'s entries for the file pass (once; the log lets go of them), or None.

        None where the map did not walk that volume to its end within the bounds: the file
        pass walks it itself.
        """
        walked = self._walks.pop(_key(volume), None)
        return walked.entries if walked is not None and walked.complete else None

    def _keep(self, entry: PlainFile | FileRef | Problem, runs: int = 0, refs: int = 0) -> None:
        now = self._now
        if now is None:
            return
        self._files_left -= 1
        self._runs_left -= runs
        self._refs_left -= refs
        if min(self._files_left, self._runs_left, self._refs_left) < 0:
            self.drop()  # too large: the file pass walks it again
            return
        now.entries.append(entry)


def _key(volume: Volume) -> tuple[int, int, str]:
    return (volume.offset, volume.size, volume.kind)
