"""Where each byte of a target belongs: a live file, its slack, file-system metadata, or neither.

The raw pass reads every byte; the file pass reads files. `map_target` walks the file systems
once (metadata only, plus the first bytes of each file) and records, for each device range, what
it holds. The raw pass then attributes each finding to the live file whose bytes it lies in, so
a plain file is matched once, by the raw pass, and keeps its path in the report. A file whose
content the raw pass cannot read as it is (compressed, encoded, a document format) is marked
`decoded`: raw findings inside it give way to the file pass's reading of it, and the raw pass
leaves its compressed streams to the file pass.

Resident NTFS data and inline ext4 data live inside metadata (MFT records, inode tables): raw
findings there count as file-system metadata, and the file pass does not match such plain files
again.
"""

from __future__ import annotations

import logging
import zlib
from functools import partial
from typing import TYPE_CHECKING

from scanners.errors import error_kind
from scanners.filesystems import WALKABLE, FileRef, Metadata, Problem, walk
from scanners.formats import archive, plain, sniff
from scanners.formats.tables import PNR_WORD_PARTS, is_pnr_column
from scanners.heads import Deferred, HeadQueue
from scanners.inflate import Limits
from scanners.places import LIVE, METADATA, SLACK, ExtentMap, Place
from scanners.runfile import RunFile, plain_runs
from scanners.target import Target
from scanners.volumes import TargetStream, Volume, buffered, find_volumes, open_volume
from scanners.walklog import PlainFile

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import BinaryIO

    from scanners.heads import Job
    from scanners.pool import SharedPool
    from scanners.runfile import Run
    from scanners.walklog import WalkLog

log = logging.getLogger(__name__)

HEAD = 4096  # bytes of each file read to tell plain files from decoded ones
# and of a file whose first line is longer than HEAD, up to its end (a wide table's header)
FIRST_LINE = 64 << 10
PNR_WORD_PARTS_BYTES = tuple(part.encode() for part in PNR_WORD_PARTS)
GZIP_HEAD = 60 << 10  # and of a gzip file, to judge its content's first 64 KB
PREFILTER_BATCH = 256  # files whose names are matched at once (`map_target`'s `prefilter`)


def map_target(
    target: Target,
    *,
    decoded_by_files: bool,
    file_limit: int = 0,
    redact: Callable[[str], str] | None = None,
    inflate_limits: Limits | None = None,
    walk_log: WalkLog | None = None,
    pool: SharedPool | None = None,
    prefilter: Callable[[list[str]], None] | None = None,
) -> ExtentMap:
    """Walk every file system of `target` and map its ranges.

    Args:
        target: the opened target.
        decoded_by_files: the file pass runs too; files it decodes are marked `decoded`.
            Without it every live file's bytes are the raw pass's alone.
        file_limit: the file pass's largest file (`FileOptions.max_file_bytes`); a larger file
            is left to the raw pass, so it is never marked `decoded`.
        redact: cuts values out of a path (`PathRedactor.redact_only`): the places the raw
            pass reports show paths as the file pass does, never a value in a name.
        inflate_limits: the raw pass's (`RawOptions.limits`): a gzip'd text is the raw
            pass's only where they let it read the text to its end.
        walk_log: keeps each walk for the file pass (`scanners.walklog`); needs `redact`
            and `decoded_by_files`, since the file pass shows redacted paths.
        pool: the scan's worker processes, which judge files' heads while the walk goes on
            (`scanners.heads`); without it (or until it runs) they are judged here.
        prefilter: sees the paths of every `PREFILTER_BATCH` files before `redact` sees
            them one by one (`PathRedactor.prefilter`, which matches their names at once).

    A file system that cannot be walked leaves its ranges unmapped (read as unallocated);
    the file pass reports it as not scannable.
    """
    # Only the file pass reads `raw_readable`: without it, no file's head is read (`_map_file`).
    limits = (inflate_limits or Limits()) if decoded_by_files else None
    extents = ExtentMap()
    stream = TargetStream(target)
    fh = buffered(stream)
    volumes, _ = find_volumes(fh, target.size)
    single = len(volumes) == 1 and volumes[0].label == "whole disk"
    if walk_log is not None and (redact is None or not decoded_by_files):
        raise ValueError("a walk is kept for the file pass only, with redacted paths")
    heads = None
    if limits is not None:  # files' heads are judged: in the workers where they run
        heads = HeadQueue(
            partial(judge_heads, target.path, limits=limits),
            partial(_place, extents),
            pool,
            here=partial(_judge_all, target, limits=limits),
        )
    for volume in volumes:
        if volume.kind not in WALKABLE:
            continue
        prefix = "" if single else f"{volume.label}:"
        if walk_log is not None:
            walk_log.begin(volume)
        try:
            entries = walk(volume.kind, open_volume(fh, volume))
            if prefilter is not None:
                entries = _prefiltered(entries, prefix, prefilter)
            for entry in entries:
                try:
                    later = _map_entry(
                        extents, volume, prefix, entry, file_limit, redact, limits, target, heads
                    )
                except Exception:
                    if walk_log is not None:
                        walk_log.drop()  # the file pass walks this volume and meets it itself
                    raise
                if walk_log is not None:
                    _keep(walk_log, entry, later)
                if later is not None:
                    heads.add(later)  # type: ignore[union-attr]  # deferred only with heads
            if walk_log is not None:
                walk_log.end()
        except Exception as e:  # the file pass reports the file system as not scannable
            log.debug("mapping %s failed: %s", volume.region, error_kind(e))
            if walk_log is not None:
                walk_log.stop(e)
    if heads is not None:
        heads.drain()
    extents.freeze()
    return extents


def _prefiltered(
    entries: Iterable[FileRef | Metadata | Problem],
    prefix: str,
    prefilter: Callable[[list[str]], None],
) -> Iterator[FileRef | Metadata | Problem]:
    """The walk's entries, `prefilter` given each next `PREFILTER_BATCH` files' paths first.

    A walk that breaks still gives the entries before the break, then its error.
    """
    walked = iter(entries)
    while True:
        held: list[FileRef | Metadata | Problem] = []
        error: Exception | None = None
        try:
            for entry in walked:
                held.append(entry)
                if len(held) >= PREFILTER_BATCH:
                    break
        except Exception as e:  # raised where the walk broke, after the entries before it
            error = e
        try:
            prefilter([prefix + e.path for e in held if isinstance(e, FileRef)])
        except Exception as e:  # it only saves work: every name is then matched alone
            log.debug("names not prefiltered: %s", error_kind(e))
        yield from held
        if error is not None:
            raise error
        if len(held) < PREFILTER_BATCH:
            return


def _map_entry(
    extents: ExtentMap,
    volume: Volume,
    prefix: str,
    entry: FileRef | Metadata | Problem,
    file_limit: int,
    redact: Callable[[str], str] | None,
    limits: Limits | None,
    target: Target,
    heads: HeadQueue | None = None,
) -> Deferred | None:
    """Map one entry of a walk; a file in plain runs is deferred (`_map_file`)."""
    if isinstance(entry, Metadata):
        for start, length in entry.runs:
            _add(extents, volume.offset, volume.size, start, length, Place(METADATA))
    elif isinstance(entry, FileRef):
        decodes = limits is not None and entry.size <= file_limit
        return _map_file(extents, volume, prefix, entry, decodes, redact, limits, target, heads)
    return None


def _keep(walk_log: WalkLog, entry: FileRef | Metadata | Problem, later: Deferred | None) -> None:
    """`entry` in the walk's log: a file in plain runs compactly, others as they are.

    A file in plain runs is still being judged; its entry is told the answer (`_place`).
    """
    if isinstance(entry, Metadata):
        return  # the map's alone
    if later is None:
        walk_log.ref(entry)
        return
    later.logged = PlainFile(later.path, later.shown, later.size, later.plain, False)
    walk_log.plain(later.logged)


def _add(extents: ExtentMap, base: int, limit: int, start: int, length: int, place: Place) -> None:
    # Clip to the volume: a corrupt run must not claim bytes of another volume.
    lo, hi = max(0, start), min(limit, start + length)
    if hi > lo:
        extents.add(base + lo, base + hi, place)


def _map_file(
    extents: ExtentMap,
    volume: Volume,
    prefix: str,
    ref: FileRef,
    decoded_by_files: bool,
    redact: Callable[[str], str] | None = None,
    limits: Limits | None = None,
    target: Target | None = None,
    heads: HeadQueue | None = None,
) -> Deferred | None:
    """Map one file's ranges; with `limits` (the file pass runs too), judge `raw_readable`.

    Without a file pass nothing depends on that judgement, which reads every file's head:
    half of mapping the 1.02 GB mixed bench image, spent before the raw pass can start. With
    `heads`, a file in plain runs (not kept in metadata, not stored transformed) is judged
    later, read along its runs (`scanners.heads`, `judge_heads`): it is returned as a
    `Deferred` for the caller to add to `heads`, and placed when its answer comes (`_place`).
    Any other file is judged here, through dissect, and placed now.
    """
    base, limit = volume.offset, volume.size
    path = prefix + ref.path
    shown = redact(path) if redact is not None else path
    extents.files += 1
    readable = False
    if limits is not None:
        try:
            if heads is not None and ref.runs is not None and not ref.embedded:
                runs = plain_runs(ref.runs(), ref.size, limit)
                if runs is not None and not ref.transformed:
                    whole = ref.runs()
                    return Deferred(
                        base, limit, path, shown, ref.size, whole, runs, decoded_by_files
                    )
            readable = raw_readable(ref, limits)
        except Exception as e:  # unreadable now: the file pass reports it
            log.debug("file head unreadable: %s", error_kind(e))
            return None
    if readable:
        extents.raw_readable.add(path)  # as the file pass walks it, before redaction
    if ref.embedded:
        # Inside an MFT record or an inode: counted as metadata, under the file's path.
        home = ref.home() if ref.home is not None else None
        if home is not None:
            place = Place(METADATA, shown, decoded=decoded_by_files and not readable)
            _add(extents, base, limit, home[0], home[1], place)
        return None
    if ref.runs is None:
        return None  # no runs known (APFS)
    live = Place(LIVE, shown, decoded=decoded_by_files and not readable)
    _add_runs(extents, base, limit, live, Place(SLACK, shown), ref.size, ref.runs())
    return None


def _place(extents: ExtentMap, file: Deferred, readable: bool | None) -> None:
    """A file whose head was judged later (`scanners.heads`): mapped as `_map_file` maps it.

    None: its head could not be read; the file is left unmapped, as `_map_file` leaves it.
    """
    if readable is None:
        return
    if readable:
        extents.raw_readable.add(file.path)
    if file.logged is not None:
        file.logged.readable = readable
    live = Place(LIVE, file.shown, decoded=file.decodes and not readable)
    _add_runs(extents, file.base, file.limit, live, Place(SLACK, file.shown), file.size, file.runs)


def _add_runs(
    extents: ExtentMap,
    base: int,
    limit: int,
    live: Place,
    slack: Place,
    size: int,
    runs: list[Run],
) -> None:
    """A file's runs as its live bytes and slack, and its ranges if it is in several."""
    left = size
    content: list[tuple[int, int]] | None = []  # None once a hole or a clipped run is met
    for start, length in runs:
        used = min(left, length)
        left -= used
        if start is None:
            content = None  # a sparse file: its holes are not on the device
            continue
        _add(extents, base, limit, start, used, live)
        _add(extents, base, limit, start + used, length - used, slack)
        if content is not None and used > 0:
            if start < 0 or start + used > limit:
                content = None
            elif content and content[-1][1] == base + start:
                content[-1] = (content[-1][0], base + start + used)
            else:
                content.append((base + start, base + start + used))
    if content is not None:
        extents.add_fragmented(content)


def judge_heads(target_path: str, jobs: list[Job], limits: Limits) -> list[bool | None]:
    """`raw_readable` of files in plain runs, read along them (in a worker process).

    One answer a file; None where its head could not be read (`_place`).
    """
    with Target(target_path) as target:
        return _judge_all(target, jobs, limits=limits)


def _judge_all(target: Target, jobs: list[Job], *, limits: Limits) -> list[bool | None]:
    """`judge_heads` on an open target (the map's own thread judges with it)."""
    return [_judged(target, *job, limits) for job in jobs]


def _judged(
    target: Target, path: str, size: int, base: int, runs: tuple[Run, ...], limits: Limits
) -> bool | None:
    ref = FileRef(path, size, partial(RunFile, target, base, runs), runs=lambda: list(runs))
    try:
        return raw_readable(ref, limits)
    except Exception as e:  # unreadable now: the file pass reports it
        log.debug("file head unreadable: %s", error_kind(e))
        return None


def raw_readable(ref: FileRef, limits: Limits | None = None) -> bool:
    """True when the raw pass sees this file's content as the file pass would match it.

    Plain text in 8-bit encodings or UTF-16LE, and bytes of unknown formats, both of which the
    file pass only hands to the same fast path, and a gzip'd text (`_gzip_text`), which the raw
    pass inflates; not other compressed, encoded or document formats,
    NTFS-compressed or encrypted files, UTF-32 or UTF-16BE text, or a CSV whose header names a
    personnummer column.
    """
    if ref.transformed or (ref.runs is None and not ref.embedded):
        return False
    if ref.embedded and ref.home is None:
        return False  # the raw pass's finding could not be placed in it
    with ref.open() as fh:
        head = fh.read(min(ref.size, HEAD))
        kind = sniff(ref.path, head)
        if kind == "gzip":
            return _gzip_text(ref.path, head + fh.read(GZIP_HEAD)) and _inflated_whole(
                fh, ref.size, limits or Limits()
            )
        if b"\n" not in head and ref.size > len(head):
            # The first line goes on past the head: a table's header of many columns names
            # its personnummer column wherever it likes (`_names_pnr_column` reads the line).
            head += fh.read(min(ref.size, FIRST_LINE) - len(head))
            if b"\n" not in head and ref.size > len(head):
                return False  # longer still: the file pass reads it and decides
            kind = sniff(ref.path, head)
    if kind != "text":
        return False
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xfe\xff")):
        return False
    if not head.startswith(b"\xff\xfe") and plain._utf16_le(head[1:]) and not plain._utf16_le(head):
        return False  # UTF-16BE: the raw pass reads UTF-16LE only
    return not _names_pnr_column(head)


def _gzip_text(path: str, head: bytes) -> bool:
    """Whether a gzip file holds text the file pass would stream (`filejob._streamed`).

    Such text (most of a server's logs) is matched by the raw pass as it inflates the file's
    stream, along the file's extents, to its end; the file pass reads only the names in its
    head. Any other content (an archive, a binary, UTF-16, a CSV with a personnummer column)
    is left to the file pass to unpack.
    """
    try:
        content = zlib.decompressobj(31).decompress(head, plain.SNIFF)
    except zlib.error:
        return False
    member = archive.gzip_member(path)
    return (
        bool(content)
        and sniff(member, content) == "text"
        and plain.text_form(content) == plain.UTF8_FIRST
        and not _names_pnr_column(content)
    )


def _inflated_whole(fh: BinaryIO, size: int, limits: Limits) -> bool:
    """Whether the raw pass's limits let it inflate this gzip file to its end.

    Past its held part a stream goes on only while it stays within `max_ratio` times its
    input: a log of one line repeated (hundreds of times smaller packed) would stop there and
    be reported, where the file pass reads it to its own limit. The gzip trailer's size (the
    last member's, modulo 4 GiB) says which it is.
    """
    if size < 18 or size > limits.max_tail_input:
        return False
    fh.seek(size - 4)
    content = int.from_bytes(fh.read(4), "little")
    return content <= max(limits.max_output, limits.min_tail_output, limits.max_ratio * size)


def _names_pnr_column(head: bytes) -> bool:
    """Whether the file pass may take the file for a table with a personnummer column.

    The file pass's rule is `tables.csv_header` on the text as it decodes the whole file; the
    map has the head's bytes only, so it says yes wherever that rule could: for each way the
    file pass may read the first line (UTF-8, cp1252, Latin-1, UTF-16LE), a field that could
    be such a column's name (`_could_name`). A yes where the file pass says no only leaves a
    file to it to read whole; a no where it says yes would lose the column's context. A
    letter whose first line holds "personnummer 400101-1008," in prose is no table: the map
    took 1,288 such letters (150 MB) of the mixed bench from the raw pass.
    """
    if not _might_name(head):
        return False
    for line in _first_lines(head):
        # A field that names such a column names it in the whole line too (the separators and
        # quotes are no word characters), so one test of the line rules out nearly every file:
        # per field, the test took 40 % of mapping a 1 GB drive of documents.
        if is_pnr_column(line) and any(
            _could_name(field) for sep in ("\t", ";", ",", "|") if sep in line
            for field in line.split(sep)
        ):  # fmt: skip
            return True
    return False


def _utf16_head(head: bytes) -> bool:
    return head.startswith(b"\xff\xfe") or plain._utf16_le(head) or plain._utf16_le(head[1:])


def _might_name(head: bytes) -> bool:
    """False where no decoding of the first line can name a personnummer column.

    `is_pnr_column` needs one of `PNR_WORD_PARTS` in the lowered name. In UTF-8, cp1252 and
    Latin-1 only the ASCII capitals lower to those ASCII letters, so the bytes, lowered as
    ASCII, hold one too; UTF-16 text is decoded. Decoding every file's first line three
    times was most of `_names_pnr_column`'s 0.3 s on the mixed image's 5,416 files.
    """
    if _utf16_head(head):
        return True
    line = head.split(b"\n", 1)[0].lower()
    return any(part in line for part in PNR_WORD_PARTS_BYTES)


def _first_lines(head: bytes) -> list[str]:
    """The first line of `head` as each decoding the file pass may use reads it."""
    line = head.split(b"\n", 1)[0]
    if line.isascii():  # the three read it alike
        lines = [line.decode("ascii")]
    else:
        lines = [line.decode(encoding, "replace") for encoding in ("utf-8", "cp1252", "latin-1")]
    if _utf16_head(head):
        for start in (0, 1):  # UTF-16 text read from either byte
            text = head[start:].decode("utf-16-le", "replace").lstrip("\ufeff")
            lines.append(text.split("\n", 1)[0])
    return lines


def _could_name(field: str) -> bool:
    """`tables._header_name` of a field, or more: only ASCII digits rule a name out.

    A digit the file pass sees in another decoding (a superscript two in cp1252, an
    Arabic-Indic digit in UTF-8) must not make the map say no where the file pass says yes.
    Lengths in characters are never longer here than there (UTF-8 makes no more characters
    of the same bytes than cp1252 or Latin-1).
    """
    name = field.strip().strip('"')
    return len(name) <= 40 and not any("0" <= ch <= "9" for ch in name) and is_pnr_column(name)
