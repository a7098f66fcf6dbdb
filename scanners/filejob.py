"""A whole file counted in a worker process: a gzip'd text file streamed, anything else extracted.

The file pass's own thread walks the file systems and reads files. Compressed logs make most of
a server's text: inflating, decoding, cutting and sending a 30 MB log to the workers a piece at
a time kept that thread busy for most of a full scan while the workers waited (the 1 GB mixed
image: 850 MB of mail log text). So the thread hands a gzip file's bytes to a worker whole,
and the worker counts it as the thread would (`scanners.fileitems`).

A gzip file whose content is text read as UTF-8 (what `formats.plain.decode` makes of it: no
BOM, no UTF-16 or UTF-32, not binary, valid UTF-8) and is no CSV with a personnummer column is
streamed: inflated, decoded and matched a megabyte at a time, in the same chunks as the whole
text would be cut (`fileitems.chunks`), with the same head for the names, so the worker holds
a few megabytes instead of the content and its text. Its findings are kept apart until the
content ends within the unpack limit: past it, only the problem counts, as for the whole file.
Anything else (another format inside, another encoding, a CSV table, a damaged stream) is
extracted whole (`formats.extract`), as in the pass's thread.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners import formats
from scanners.errors import error_kind
from scanners.fileitems import TEXT_CHUNK, FileItems, chunk_end
from scanners.formats import archive, plain
from scanners.formats.tables import csv_header
from scanners.names import name_records
from scanners.pathnames import PathRedactor
from scanners.report import Tally
from scanners.runfile import Run, RunFile
from scanners.target import Span, Target

if TYPE_CHECKING:
    from typing import BinaryIO

    from scanners.findings import ValueHasher
    from scanners.pagescan import Matcher

PIECE = 1 << 20  # bytes inflated at a time (the first piece decides format and encoding)


@dataclass
class FileOutcome:
    """What a worker found in one file: its tally, unread regions, text items matched."""

    tally: Tally = field(default_factory=Tally)
    problems: list[tuple[str, str]] = field(default_factory=list)
    texts: int = 0
    streamed: bool = False
    # (offset, length) of the target the worker read itself (`HeadJob`, `FileJob.where`): the
    # pass counts each block once, as it counts its own reads (a file's hard links read it again).
    ranges_read: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Placed:
    """Where a file in plain runs lies, for a worker to read it itself (`runfile.RunFile`)."""

    target: str  # the target's path, opened read-only where the job runs
    base: int  # the volume's offset on the target
    runs: tuple[Run, ...]  # the file's content on the volume (`runfile.plain_runs`)

    def read(self) -> tuple[bytes, bool, tuple[tuple[int, int], ...]]:
        """The file's bytes, whether some could not be read (they read as zeros), and where."""
        bad: list[Span] = []
        with _target(self.target) as target, RunFile(target, self.base, self.runs, bad) as fh:
            return fh.read(), bool(bad), tuple(fh.ranges_read)


@dataclass(frozen=True)
class FileJob:
    """How to count a file: the pass's limits and name budget (`files.FileOptions`).

    With `where`, the worker reads the file's bytes itself instead of receiving them: the
    pass's thread read and sent 127 MB of tables through a pipe on the 1.02 GB mixed image.
    """

    limits: formats.Limits
    nlp_max_chars: int
    names: bool
    where: Placed | None = None


@dataclass(frozen=True)
class HeadJob:
    """The names in the head of a file the raw pass matched, read by the worker itself.

    The file pass's thread read each such file's head (417 MB on the 1.02 GB mixed image),
    decoded it and sent the text through a pipe; its names were all the pass wanted of it.
    A file stored as plain runs (`runfile.plain_runs`) goes to a worker as where it lies.
    """

    where: Placed
    want: int  # bytes of its head for names (the pass's `nlp_max_chars`, at most its size)
    limit: int  # the pass's `nlp_max_chars`: of a gzip'd text, the head of its content


def count_head(matcher: Matcher, hasher: ValueHasher, path: str, job: HeadJob) -> FileOutcome:
    """The names in a file's head (`HeadJob`); a read that fails is the file's problem."""
    try:
        where = job.where
        with _target(where.target) as target, RunFile(target, where.base, where.runs) as fh:
            text, _ = names_head(fh, job.want, job.limit)
            ranges = tuple(fh.ranges_read)
    except Exception as e:
        return FileOutcome(problems=[(path, f"file could not be read: {error_kind(e)}")])
    outcome = FileOutcome(ranges_read=ranges)
    match_into(outcome.tally, matcher, hasher, path, b"", text)
    return outcome


_TARGETS: dict[str, Target] = {}  # a worker's, open for its life (it ends with the scan)
_IN_WORKER = False  # set by `in_worker` in the file pass's worker processes


def in_worker() -> None:
    """This process is a worker of the file pass: keep the targets its jobs read open."""
    global _IN_WORKER
    _IN_WORKER = True


@contextmanager
def _target(path: str) -> Iterator[Target]:
    """The target at `path`: kept open in a worker process, closed after the job elsewhere.

    The pass's own process (which may itself be a child, a station's per-drive process)
    runs a job itself while its workers start or after they broke; a target it kept open
    would hold the drive after the scan.
    """
    if not _IN_WORKER:
        with Target(path) as target:
            yield target
        return
    if path not in _TARGETS:
        _TARGETS[path] = Target(path)
    yield _TARGETS[path]


def names_head(fh: BinaryIO, want: int, limit: int) -> tuple[str, int]:
    """The text of a file's first `want` bytes, as the names read it, and the bytes read.

    `plain.decode` judges text by the first 64 KB: a binary file (most of a system disk's
    raw-read files) has no names, and the rest of its head is not read. A gzip'd text
    (`extents._gzip_text`) gives the first `limit` bytes of its content. A head that decodes
    as binary (a NUL past what the map sniffed) has no names: no text, not None.
    """
    head = fh.read(min(want, plain.SNIFF))
    if head[:2] == b"\x1f\x8b":
        head = gunzipped_head(fh, head, limit)
        form = plain.text_form(head)
        read = fh.tell()
    else:
        form = plain.text_form(head)  # the first 64 KB: the whole head's form
        if len(head) < want and form != "binary":
            head += fh.read(want - len(head))
        read = len(head)
    return plain.decode(head, form) or "", read


def gunzipped_head(fh: BinaryIO, head: bytes, want: int) -> bytes:
    """The first `want` bytes of a gzip file's content, as the file pass reads it.

    `archive.GzipReader`, member after member. Text gives at least a byte out for each byte
    in, so `want` bytes of the file are enough. A damaged member gives no head (no names).
    """
    try:
        return archive.GzipReader(head + fh.read(max(0, want - len(head)))).read_up_to(want)
    except zlib.error:
        return b""


def count_file(
    matcher: Matcher, hasher: ValueHasher, path: str, data: bytes, job: FileJob
) -> FileOutcome:
    """The findings of the file `path` (redacted) whose bytes are `data` (or `job.where`)."""
    problems: list[tuple[str, str]] = []
    ranges: tuple[tuple[int, int], ...] = ()
    if job.where is not None:
        try:
            data, unreadable, ranges = job.where.read()
        except Exception as e:
            return FileOutcome(problems=[(path, f"file could not be read: {error_kind(e)}")])
        if unreadable:
            problems.append((path, "unreadable sectors (EIO) in the file's data"))
    outcome = _streamed(matcher, hasher, path, data, job) or _extracted(
        matcher, hasher, path, data, job
    )
    outcome.problems[:0] = problems
    outcome.ranges_read = ranges
    return outcome


def _extracted(
    matcher: Matcher, hasher: ValueHasher, path: str, data: bytes, job: FileJob
) -> FileOutcome:
    """A file's findings from its extracted items (`formats.extract`), as the pass counts them."""
    outcome = FileOutcome()
    items = _items(outcome, outcome.tally, matcher, hasher, path, job)
    for item in formats.extract(path, data, budget=formats.Budget(job.limits)):
        items.item(item)
    outcome.texts = items.texts
    return outcome


def match_into(
    found: Tally, matcher: Matcher, hasher: ValueHasher, path: str, data: bytes, text: str
) -> None:
    """Count the fast path's findings in `data` and the names in `text` for `path`."""
    if data:
        found.add_file_records(matcher.scan_records(data, 0), path)
    if text:
        found.add_file_records(name_records(text, hasher), path)


def _items(
    outcome: FileOutcome, found: Tally, matcher: Matcher, hasher: ValueHasher, path: str,
    job: FileJob,
) -> FileItems:  # fmt: skip
    """Items counted into `found`; names in member paths and problems into `outcome`."""

    def match(where: str, data: bytes = b"", names: str = "") -> None:
        match_into(found, matcher, hasher, where, data, names)

    return FileItems(
        path,
        redact=PathRedactor(matcher).redact,
        count=lambda finding, where: outcome.tally.add(finding, file=where),
        match=match,
        report=lambda region, why: outcome.problems.append((region, why)),
        nlp_max_chars=job.nlp_max_chars,
        names=job.names,
    )


def _streamed(
    matcher: Matcher, hasher: ValueHasher, path: str, data: bytes, job: FileJob
) -> FileOutcome | None:
    """The outcome of a gzip'd text file read a piece at a time; None where it is not one."""
    limits = job.limits
    # The whole file's budget takes one member of its content: none allowed, read it whole.
    if formats.sniff(path, data) != "gzip" or limits.max_depth < 1 or limits.max_members < 1:
        return None
    limit = min(limits.max_member, limits.max_total)
    reader = archive.GzipReader(data)
    try:
        piece = reader.read(PIECE)
    except zlib.error:
        return None
    member = archive.gzip_member(path)
    if formats.sniff(member, piece) != "text" or plain.text_form(piece) != plain.UTF8_FIRST:
        return None
    outcome, text_found = FileOutcome(streamed=True), Tally()
    items = _items(outcome, text_found, matcher, hasher, path, job)
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = head = ""
    redacted, inflated, chars = None, 0, 0
    while True:
        try:  # a piece ahead: the content has ended when none follows
            following = reader.read(PIECE)
        except zlib.error:
            return None
        inflated += len(piece)
        ended = not following
        if inflated > limit:
            items.item(formats.Extracted(member, problem=archive.GZIP_OVER_LIMIT))
            return outcome
        try:
            text = decoder.decode(piece, final=ended)
        except UnicodeDecodeError:  # cp1252 or Latin-1 for the whole text: read it whole
            return None
        chars += len(text)
        if job.names and len(head) < items.names_left:
            head += text[: items.names_left - len(head)]
        pending += text
        if redacted is None:  # a CSV table's header or not: its first line and text after it
            line_end = pending.find("\n")
            if ended or (line_end >= 0 and pending[line_end + 1 :].strip()):
                if csv_header(pending) is not None:
                    return None
                redacted = items.member(member)
        if redacted is not None:
            pending = _matched_chunks(items, redacted, pending, ended)
        if ended:
            break
        piece = following
    if chars:  # an empty text is no text item (`FileItems.item`)
        assert redacted is not None  # decided when the text ended at the latest
        outcome.texts = 1
        items.text_names(redacted, head)
    if reader.tail:  # bytes after the last member, as `archive.extract_gzip` gives them
        items.item(formats.Extracted(path, raw=reader.tail))
    outcome.tally.merge(text_found)
    return outcome


def _matched_chunks(items: FileItems, path: str, pending: str, ended: bool) -> str:
    """Match the chunks of `pending` the whole text would have (`fileitems.chunks`); the rest.

    A chunk is cut only where the whole text would cut it: with more than a chunk's worth of
    text after its start, or at the text's end.
    """
    while len(pending) > TEXT_CHUNK or (ended and pending):
        end = chunk_end(pending)
        items.match(path, pending[:end].encode("utf-8"))
        pending = pending[end:]
    return pending
