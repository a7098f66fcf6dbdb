"""The file pass: partitions, file systems and documents, read-only, each finding tied to a path.

Volumes come from `scanners.volumes`, files from `scanners.filesystems`, text from
`scanners.formats`. Extracted text goes through the fast path (the identifier rules, matched in
pieces of about `TEXT_CHUNK` characters cut at line ends, so a 100 MB log is never encoded
whole) and its first `nlp_max_chars` characters per file through the name finder
(`scanners.names`). With `presidio`, text up to `nlp_max_chars` goes through the text detector
instead (Presidio with our recognizers): with the blank spaCy pipeline it finds the same values
(the same rules, the same name lexicon) at 0.15-0.5 MB/s against tens of MB/s, so it is worth
its cost only with a statistical pipeline. Bytes of unknown formats always go through the fast
path. Each piece of text is handled by one detector per category, so nothing is counted twice
within the pass.

What cannot be read (encrypted volumes, corrupt file systems, unreadable sectors, encrypted
documents) is reported as not scannable.
When the raw pass also runs (`raw_covers`), regions it reads byte by byte (unknown partitions,
oversized files) are not reported again; encrypted and corrupt ones always are.

When the raw pass ran over the extent map (`scanners.extents`), a file whose bytes it read as
they are (`ExtentMap.raw_readable`: plain text, unknown binary formats) is not matched again:
its identifiers are the raw pass's, attributed to its path. The file pass looks in such a file
only for what the raw pass cannot see: person names (a text-path category), and values cut in
two where the file is fragmented (the raw pass sees the two runs apart).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Protocol

from scanners import formats
from scanners.errors import error_kind
from scanners.fileitems import TEXT_CHUNK, FileItems, chunks
from scanners.filejob import FileJob, FileOutcome, HeadJob, Placed, names_head
from scanners.filesystems import WALKABLE, FileRef, Problem, walk
from scanners.pathnames import PathRedactor
from scanners.report import PassResult, TallyMerger, Unscannable
from scanners.runfile import RunFile, plain_runs
from scanners.target import Span
from scanners.volumes import TargetStream, Volume, buffered, find_volumes, open_volume
from scanners.walklog import PlainFile, Stopped

if TYPE_CHECKING:
    from scanners.extents import ExtentMap
    from scanners.filework import Done, Offload
    from scanners.findings import Finding
    from scanners.raw import Matcher
    from scanners.target import Target
    from scanners.walklog import WalkLog

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
NameFinder = Callable[[str], list["Finding"]]
# Bytes read on each side of a seam between two runs of a fragmented file: more than the longest
# value (`fastpath.MAX_MATCH`) plus its keyword context.
SEAM = 2048
# Files of at most this many bytes (and gzip files of any size the pass reads) are counted whole
# in a worker process once the workers run (`scanners.filejob`): extracting them (decoding text,
# reading CSV tables) was most of the pass's own thread. Larger files are extracted here and
# only their text goes out, so a worker never holds more than a few such files at once. At
# 4 MiB the JDK's ct.sym archives (7 and 10 MB of small members) were unpacked here at the end
# of the 4.1 GB mixed image's walk, one core busy for seconds while the workers waited: full
# scan 65.0/64.5/62.3 s, at 16 MiB 57.2/63.8/60.4 s (alternated), peak 435 MB summed.
WHOLE_FILE_JOB = 16 << 20
# Jobs kept while the workers have no room, at most (where each file lies, not its bytes):
# the walk goes on meanwhile instead of waiting for them (`FileScanner._queue_job`). Their
# runs are held too, at most `MAX_QUEUED_RUNS` (about 100 bytes each): a fragmented file has
# thousands.
MAX_QUEUED = 4096
MAX_QUEUED_RUNS = 1 << 18


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
    nlp_max_chars: int = 1 << 20  # text per file for names (or Presidio); beyond it, none
    presidio: bool = False  # Presidio for text within `nlp_max_chars` (see the module docstring)
    limits: formats.Limits = field(default_factory=formats.Limits)
    raw_covers: bool = False  # the raw pass reads every byte of this target too
    pattern_ranges: tuple[Span, ...] = ()  # ranges the raw pass found to be the wipe pattern
    # Targets of at least `processes_from` bytes (None: never) have their decoded text matched
    # in `workers` processes (`scanners.filework`) from the start. On smaller targets they start
    # once this thread has spent `offload_after` seconds matching: a start costs about 0.8 s
    # and 60 MB a worker, more than a small drive's text takes, but a drive of compressed logs
    # decodes to gigabytes of text (on the 1 GB mixed image the file pass matched 850 MB of
    # mail log text in this one thread, while a core stood idle). Time, not bytes: sparse text
    # matches at 260 MB/s, a register of customers (names and numbers) at 12 MB/s when this
    # was set (about 25 since names and phone numbers are confirmed in C), and a threshold of
    # 64 MB had the other core idle for the first 5 s of that image's scan.
    workers: int = 2
    processes_from: int | None = 1 << 30
    offload_after: float = 1.0


class FileScanner:
    """Runs the file pass over one target."""

    def __init__(
        self,
        target: Target,
        text: TextScanner,
        matcher: Matcher,
        options: FileOptions | None = None,
        *,
        extents: ExtentMap | None = None,
        names: NameFinder | None = None,
        offload: Callable[[Callable[[str, Done], None]], Offload] | None = None,
        walk_log: WalkLog | None = None,
    ) -> None:
        self.target = target
        # The map's walks (with `extents`): volumes found there are not walked again.
        self.walk_log = walk_log if extents is not None else None
        self._volume_now: Volume | None = None
        self.text = text
        self.matcher = matcher
        self.options = options or FileOptions()
        self.extents = extents
        self.names = names
        self.stream = TargetStream(target)
        self.fh = buffered(self.stream)
        self.result = PassResult("files", complements=extents is not None)
        self._progress: Progress | None = None
        self.redactor = PathRedactor(matcher)
        self._items: FileItems | None = None  # the current file's
        # Matching in worker processes (`scanners.filework`), started by `run` on targets of
        # `processes_from` bytes, else by `_match` after `offload_after` seconds matching here.
        self._start_offload = offload
        self._offload: Offload | None = None
        self._matched_here = 0  # bytes and characters, and the seconds it took
        self._matching_here = 0.0
        # Problems with the number of the file they came from, so that those a worker reports
        # later take the place they have when the pass matches everything itself.
        self._file_number = 0
        self._problems: list[tuple[int, Unscannable]] = []
        # Jobs the workers had no room for yet (`_queue_job`): path, job, number, size.
        self._queued: deque[tuple[str, FileJob | HeadJob, int, int]] = deque()
        self._queued_runs = 0
        # The workers' tallies, merged while this thread goes on feeding them.
        self._merger = TallyMerger()

    def run(self, on_progress: Progress | None = None) -> PassResult:
        """Walk every volume and file; returns the pass's tally and what it could not read."""
        began = time.monotonic()
        self._progress = on_progress
        volumes, scheme = find_volumes(self.fh, self.target.size, self.target.sector_size)
        self.result.stats["volumes"] = len(volumes)
        log.debug("partition table: %s, volumes: %s", scheme, volumes)
        from_start = self.options.processes_from
        if from_start is not None and self.target.size >= from_start:
            self._start_workers()
        try:
            for volume in volumes:
                self._volume(volume, single=len(volumes) == 1 and volume.label == "whole disk")
            if self._offload is not None:
                self._offload.finish()
                self.result.stats["offloaded_jobs"] = self._offload.jobs
                self.result.stats["offloaded_batches"] = self._offload.batches
                here = self._offload.jobs_here_while_starting
                self.result.stats["jobs_matched_here_while_workers_started"] = here
            self.result.tally.merge(self._merger.close())
            self._problems.sort(key=_first)  # stable: in order within one file
            self.result.not_scannable.extend(problem for _, problem in self._problems)
        finally:
            if self._offload is not None:
                self._offload.close()
            self._merger.stop()
        # What this thread and the workers read, each block once.
        self.result.bytes_scanned = self.stream.bytes_read
        self.result.seconds = time.monotonic() - began
        return self.result

    def _unscannable(self, region: str, reason: str, file_number: int | None = None) -> None:
        """A region the pass could not read; from a worker with the number of its file.

        A problem found here takes a number of its own: after every job submitted before it,
        before every job submitted after it, as it is when the pass matches everything here.
        """
        if file_number is None:
            self._file_number += 1
            file_number = self._file_number
        self._problems.append((file_number, Unscannable(region, reason)))

    def _match(
        self, path: str, data: bytes = b"", names: str = "", number: int | None = None
    ) -> None:
        """Count the fast path's findings in `data` and the names in `names`, for `path`.

        In a worker process when the pass has them, else here. `number`: the file's number for
        its problems (default: the file being read).
        """
        if self._offload is None and self._matching_here >= self.options.offload_after:
            self._start_workers()
        if self._offload is not None:
            tag = self._file_number if number is None else number
            self._offload.submit(path, data, names, tag=tag)
            return
        began = time.perf_counter()
        self._matched_here += len(data) + len(names)
        if data:
            self.result.tally.add_file_records(self.matcher.scan_records(data, 0), path)
        if names and self.names is not None:
            self.result.tally.add_file(self.names(names), path)
        self._matching_here += time.perf_counter() - began

    def _start_workers(self) -> None:
        """Start the worker processes, once; without a way to start them, match here."""
        start, self._start_offload = self._start_offload, None
        if start is not None:
            self._offload = start(self._matched)
            self.result.stats["offloaded_after_bytes"] = self._matched_here

    def _matched(self, path: str, outcome: Done, file_number: object) -> None:
        """A worker's tally for `path`, a whole file's outcome, or why its matching failed."""
        assert isinstance(file_number, int)
        if isinstance(outcome, BaseException):
            why = f"file could not be matched: {error_kind(outcome)}"
            self._unscannable(path, why, file_number)
        elif isinstance(outcome, FileOutcome):
            self._merger.add(outcome.tally)
            for region, reason in outcome.problems:
                self._unscannable(region, reason, file_number)
            stats = self.result.stats
            if outcome.texts:
                stats["texts_fast_path"] = stats.get("texts_fast_path", 0) + outcome.texts
            if outcome.streamed:
                stats["files_streamed"] = stats.get("files_streamed", 0) + 1
            for offset, length in outcome.ranges_read:  # each block counts once
                self.stream.mark_read(offset, length)
        else:
            self._merger.add(outcome)

    def _path(self, path: str, *, member: bool = False) -> str:
        """`path` with values in its names cut out; the values count as findings.

        With the extents mapped, the raw pass reads the file systems' names where they are
        stored (directory blocks, MFT records: file-system metadata), so only archive members'
        names are counted here; a file system's names would otherwise count twice.
        """
        redacted, found = self.redactor.redact(path)
        if member or self.extents is None:
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
        self._volume_now = volume  # where the files being walked lie (`_head_job`)
        walked = self.walk_log.take(volume) if self.walk_log is not None else None
        self.result.stats["volumes_walked_by_map"] = self.result.stats.get(
            "volumes_walked_by_map", 0
        ) + (walked is not None)
        try:
            entries = (
                walked if walked is not None else walk(volume.kind, open_volume(self.fh, volume))
            )
            for entry in entries:
                if self._queued:
                    self._send_queued()
                if isinstance(entry, PlainFile):
                    self._walked_file(entry, volume)
                elif isinstance(entry, Stopped):
                    self._walk_failed(volume, entry.kind, entry.reason)
                    break
                elif isinstance(entry, Problem) and entry.scanned:
                    self.result.stats["directory_loops"] = (
                        self.result.stats.get("directory_loops", 0) + 1
                    )
                elif isinstance(entry, Problem):
                    self._unscannable(self._path(prefix + entry.path), entry.reason)
                elif isinstance(entry, FileRef):
                    path = prefix + entry.path
                    raw_read = self.extents is not None and path in self.extents.raw_readable
                    self._file_ref(self._path(path), entry, raw_read)
        except Exception as e:  # a corrupt file system must not stop the scan
            self._walk_failed(volume, type(e).__name__, error_kind(e))
        self._send_queued(keep=0)  # the jobs the walk gave before it ended, or failed
        self._volume_now = None
        self.result.stats[f"volumes_{volume.kind}"] = (
            self.result.stats.get(f"volumes_{volume.kind}", 0) + 1
        )

    def _walk_failed(self, volume: Volume, kind: str, reason: str) -> None:
        # The error's kind only: parser messages can quote bytes of the drive.
        log.debug("file system on %s failed: %s", volume.region, kind)
        self._unscannable(volume.region, f"{volume.kind} file system could not be read: {reason}")

    def _file_ref(self, path: str, ref: FileRef, raw_read: bool) -> None:
        """A walked file at its shown `path`: names and seams where the raw pass read it."""
        if raw_read:
            self._file_number += 2  # the file's, one for a problem reading it
            self._raw_read_file(self._file_number - 1, path, ref)
        else:
            self._file(path, ref)

    def _walked_file(self, file: PlainFile, volume: Volume) -> None:
        """A file of the map's walk (`scanners.walklog`), read along its runs, not by dissect.

        Its bytes are read through this pass's stream, as dissect's would be: unreadable
        sectors and the bytes read are noted there.
        """
        runs = file.runs
        opened = partial(
            RunFile, self.target, volume.offset, runs, self.stream.bad, self.stream.mark_read
        )
        ref = FileRef(file.path, file.size, opened, runs=lambda: runs)
        self._file_ref(file.shown, ref, file.readable)

    def _is_pattern(self, volume: Volume) -> bool:
        end = volume.offset + volume.size
        return any(r.start <= volume.offset and end <= r.end for r in self.options.pattern_ranges)

    def _file(self, path: str, ref: FileRef) -> None:
        # Every path below is the redacted one: formats, logs and the report never see a value.
        self._file_number += 1
        stats = self.result.stats
        if ref.size > self.options.max_file_bytes:
            stats["files_too_large"] = stats.get("files_too_large", 0) + 1
            if not self.options.raw_covers:
                self._unscannable(path, f"file of {ref.size} bytes is over the file-pass limit")
            return
        job = FileJob(self.options.limits, self.options.nlp_max_chars, self.names is not None)
        if self._offload is not None and not self.options.presidio and ref.size <= WHOLE_FILE_JOB:
            try:
                where = self._placed(ref)
            except Exception as e:
                self._unscannable(path, f"file could not be read: {error_kind(e)}")
                return
            if where is not None:  # the worker reads it (`FileJob.where`)
                stats["files"] = stats.get("files", 0) + 1
                stats["files_read_by_workers"] = stats.get("files_read_by_workers", 0) + 1
                self._queue_job(path, replace(job, where=where), self._file_number, ref.size)
                return
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
        whole = len(data) <= WHOLE_FILE_JOB or data[:2] == b"\x1f\x8b"
        if self._offload is not None and not self.options.presidio and whole:
            self._offload.submit_file(path, data, job, tag=self._file_number)
            return
        items = self._items = FileItems(
            path,
            redact=self.redactor.redact,
            count=self._count_in_name,
            match=self._match,
            report=self._unscannable,
            nlp_max_chars=self.options.nlp_max_chars,
            names=self.names is not None,
            on_text=self._presidio if self.options.presidio else None,
        )
        for item in formats.extract(path, data, budget=formats.Budget(self.options.limits)):
            items.item(item)
        if items.texts:
            stats["texts_fast_path"] = stats.get("texts_fast_path", 0) + items.texts
        if self._progress is not None:
            self._progress(self.result.bytes_scanned, 0)

    def _queue_job(self, path: str, job: FileJob | HeadJob, number: int, size: int) -> None:
        """A job the workers read for themselves: sent now where they have room, else queued.

        Waiting for room held the walk up. Files the raw pass read were then kept for when the
        workers were busy; on the 1.02 GB mixed image 3,488 of them (a copy of /usr) were
        still kept when the walk ended, and reading their runs and sending their heads took
        this thread half a second alone while the workers idled. Queued, the walk goes on,
        the workers always have work, and the jobs keep their numbers (the order of problems).
        """
        self._queued.append((path, job, number, size))
        self._queued_runs += _runs(job)
        if len(self._queued) > 1:
            stats = self.result.stats
            stats["jobs_queued"] = stats.get("jobs_queued", 0) + 1
        self._send_queued()

    def _send_queued(self, keep: int = MAX_QUEUED) -> None:
        """Queued jobs to the workers while they have room.

        Past `keep` jobs (none at a volume's end) or `MAX_QUEUED_RUNS` runs, even where that
        waits for them.
        """
        if not self._queued:
            return
        offload = self._offload
        assert offload is not None  # jobs are queued only for workers
        while self._queued and (
            len(self._queued) > keep
            or self._queued_runs > MAX_QUEUED_RUNS
            or offload.has_room(self._queued[0][3])
        ):
            path, job, number, size = self._queued.popleft()
            self._queued_runs -= _runs(job)
            if isinstance(job, HeadJob):
                offload.submit_head(path, job, tag=number)
            else:
                offload.submit_file(path, b"", job, tag=number, size=size)

    def _raw_read_file(self, number: int, path: str, ref: FileRef) -> None:
        """A file the raw pass matched byte for byte: names and fragment seams only.

        `number` orders its names' problems, `number + 1` a problem reading it.
        """
        stats = self.result.stats
        stats["files_matched_by_raw"] = stats.get("files_matched_by_raw", 0) + 1
        tally = self.result.tally
        limit = self.options.nlp_max_chars
        want = min(ref.size, limit) if self.names is not None else 0
        try:
            seams = self._seams(ref)
            job = self._head_job(ref, want) if want else None
            if job is not None:  # a worker reads the head
                self._queue_job(path, job, number, job.want)
                stats["heads_read_by_workers"] = stats.get("heads_read_by_workers", 0) + 1
                want = 0
            if not want and not seams:
                return
            with ref.open() as fh:
                if want:
                    text, read = names_head(fh, want, limit)
                    self.result.bytes_scanned += read
                    self._match(path, names=text, number=number)
                for seam in seams:
                    fh.seek(max(0, seam - SEAM))
                    window = fh.read(seam - max(0, seam - SEAM) + SEAM)
                    self.result.bytes_scanned += len(window)
                    cut = seam - max(0, seam - SEAM)
                    # Only a value cut by the seam: the raw pass read each run whole.
                    found = self.matcher.scan(window, 0)
                    tally.add_file((f for f in found if f.offset < cut < f.offset + f.length), path)
        except Exception as e:
            self._unscannable(path, f"file could not be read: {error_kind(e)}", number + 1)

    def _head_job(self, ref: FileRef, want: int) -> HeadJob | None:
        """The head of `ref` for a worker to read itself, where it lies in plain runs."""
        where = self._placed(ref)
        return None if where is None else HeadJob(where, want, self.options.nlp_max_chars)

    def _placed(self, ref: FileRef) -> Placed | None:
        """Where `ref` lies for a worker to read it, if it lies in plain runs on this volume."""
        volume = self._volume_now
        if self._offload is None or volume is None or ref.embedded or ref.transformed:
            return None
        runs = None if ref.runs is None else plain_runs(ref.runs(), ref.size, volume.size)
        return None if runs is None else Placed(self.target.path, volume.offset, runs)

    @staticmethod
    def _seams(ref: FileRef) -> list[int]:
        """File offsets where one run ends and a run elsewhere on the volume begins."""
        if ref.embedded or ref.runs is None:
            return []
        seams, pos, prev_end = [], 0, None
        for start, length in ref.runs():
            if pos >= ref.size:
                break
            if pos and (start is None or prev_end is None or start != prev_end):
                seams.append(pos)
            prev_end = None if start is None else start + length
            pos += length
        return seams

    def _count_in_name(self, finding: Finding, where: str) -> None:
        """A value in an archive member's name (`FileItems.member`)."""
        self.result.tally.add(finding, file=where)

    def _presidio(self, item: formats.Extracted) -> bool:
        """Presidio on a text item while the file's budget lasts (`FileOptions.presidio`)."""
        items = self._items
        assert items is not None
        assert item.text is not None
        if len(item.text) > items.names_left:
            return False
        items.names_left -= len(item.text)
        for chunk in chunks(item.text, TEXT_CHUNK):
            self.result.tally.add_file(self.text.scan(chunk), item.path)
        return True


def _runs(job: FileJob | HeadJob) -> int:
    return 0 if job.where is None else len(job.where.runs)


def _first(numbered: tuple[int, Unscannable]) -> int:
    return numbered[0]
