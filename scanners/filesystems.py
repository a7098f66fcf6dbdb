"""Walk the live files of a volume through dissect (ext2/3/4, FAT, exFAT, NTFS, APFS), read-only.

Each walker yields `FileRef`s (path, size, a way to open the content, and where its bytes lie
on the volume), `Metadata` (bytes of directories and file-system structures) and `Problem`s for
what it could not read (a directory that fails to parse, an encrypted APFS volume). Directory
cycles in a corrupt file system are cut by remembering the directories already entered.
"""

from __future__ import annotations

import functools
import logging
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from dissect.util.stream import RunlistStream

from scanners.errors import error_kind

log = logging.getLogger(__name__)

MAX_DEPTH = 128

# Byte runs of a file on its volume, in file order: (volume offset or None for a sparse run,
# allocated length); the file's bytes are the first `size` bytes of the runs, the rest is slack.
Runs = list[tuple[int | None, int]]


def _no_runs() -> Runs:
    return []


@dataclass(frozen=True, slots=True)
class FileRef:
    """A live file on a volume."""

    path: str
    size: int
    open: Callable[[], BinaryIO]
    # Where the content lies on the volume; None when the walker cannot say (APFS).
    runs: Callable[[], Runs] | None = None
    # Content kept inside file-system metadata (NTFS resident data, ext4 inline data), or
    # stored transformed (NTFS compression or encryption): not the plain bytes in `runs`.
    embedded: bool = False
    transformed: bool = False
    # For embedded content: the volume byte range of the structure that holds it (the MFT
    # record, the inode), or None when it cannot be placed.
    home: Callable[[], tuple[int, int] | None] | None = None

    def __post_init__(self) -> None:
        # Parsed once: the map, the seams and a worker's job each ask (ext4's extent tree is
        # read and parsed again at every call of its walker's function).
        if self.runs is not None:
            object.__setattr__(self, "runs", functools.cache(self.runs))


@dataclass(frozen=True, slots=True)
class Metadata:
    """Volume byte ranges that hold file-system structures (directories, tables, journal)."""

    runs: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A part of the volume the walker could not read, and why."""

    path: str
    reason: str
    scanned: bool = False  # informational: the content was read another way (a directory loop)


Walk = Iterator[FileRef | Problem | Metadata]


def _loop(path: str) -> Problem:
    """A directory entry that leads back to a directory already walked."""
    return Problem(path, "directory loop; already walked", scanned=True)


def _too_deep(path: str) -> Problem:
    """A directory nested deeper than MAX_DEPTH (corrupt or hostile)."""
    return Problem(path, f"directories nested deeper than {MAX_DEPTH}; not entered")


def walk(kind: str, fh: BinaryIO) -> Walk:
    """Walk the files of a volume of `kind` (as named by `volumes.sniff`).

    Raises:
        Exception: whatever the dissect parser raises when the file system itself is unreadable.
    """
    return _WALKERS[kind](fh)


def _walk_ext(fh: BinaryIO) -> Walk:
    from dissect.extfs import ExtFS

    fs = ExtFS(fh)
    seen: set[int] = set()
    bs = fs.block_size

    def runs(node: Any) -> Callable[[], Runs]:
        def get() -> Runs:
            return [(None if b is None else b * bs, n * bs) for b, n in node.dataruns()]

        return get

    structures: list[tuple[int, int]] = []
    try:
        structures.extend(_ext_structures(fs))
    except Exception as e:  # broken descriptors: the walk below reports what it cannot read
        log.debug("ext structures unreadable: %s", type(e).__name__)
    yield Metadata(tuple(structures))

    def inode_home(inum: int) -> Callable[[], tuple[int, int] | None]:
        def get() -> tuple[int, int] | None:
            group, index = divmod(inum - 1, fs.sb.s_inodes_per_group)
            desc = fs._read_group_desc(group)
            hi = getattr(desc, "bg_inode_table_hi", 0) if fs._group_desc_size > 32 else 0
            table = ((hi << 32) | desc.bg_inode_table_lo) * bs
            return table + index * fs.sb.s_inode_size, fs.sb.s_inode_size

        return get

    def visit(node: Any, path: str, depth: int) -> Walk:
        seen.add(node.inum)
        try:
            blocks = tuple((o, n) for o, n in runs(node)() if o is not None)
            children = list(node.iterdir())
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
        yield Metadata(blocks)
        for child in children:
            name = child.filename
            if name in (".", "..") or name is None:
                continue
            child_path = f"{path}/{name}"
            try:
                mode = child.filetype
                if mode == stat.S_IFDIR:
                    if child.inum in seen:
                        yield _loop(child_path)
                        continue
                    if depth >= MAX_DEPTH:
                        yield _too_deep(child_path)
                        continue
                    yield from visit(child, child_path, depth + 1)
                elif mode == stat.S_IFREG:
                    inline = bool(child.inode.i_flags & _EXT4_INLINE_DATA_FL)
                    yield FileRef(
                        child_path,
                        child.size,
                        child.open,
                        None if inline else runs(child),
                        embedded=inline,
                        home=inode_home(child.inum) if inline else None,
                    )
            except Exception as e:
                yield Problem(child_path, f"entry unreadable: {error_kind(e)}")

    yield from visit(fs.get("/"), "", 0)


_EXT4_INLINE_DATA_FL = 0x10000000


def _ext_structures(fs: Any) -> Iterator[tuple[int, int]]:
    """Superblock, group descriptors, bitmaps, inode tables (inline data lives there), journal."""
    bs = fs.block_size
    sb = fs.sb
    yield 0, fs.groups_offset + fs.groups_count * fs._group_desc_size
    table = -(-sb.s_inodes_per_group * sb.s_inode_size // bs) * bs
    for group in range(fs.groups_count):
        # dissect reads descriptors only privately; this walk needs each group's table.
        desc = fs._read_group_desc(group)
        hi = getattr(desc, "bg_inode_table_hi", 0) if fs._group_desc_size > 32 else 0
        yield ((hi << 32) | desc.bg_inode_table_lo) * bs, table
        for name in ("bg_block_bitmap", "bg_inode_bitmap"):
            hi = getattr(desc, f"{name}_hi", 0) if fs._group_desc_size > 32 else 0
            yield ((hi << 32) | getattr(desc, f"{name}_lo")) * bs, bs
    if sb.s_journal_inum:
        try:
            journal = fs.get_inode(sb.s_journal_inum)
            for b, n in journal.dataruns():
                if b is not None:
                    yield b * bs, n * bs
        except Exception as e:  # an external or broken journal: its blocks stay unclassified
            log.debug("journal runs unreadable: %s", type(e).__name__)


def _walk_fat(fh: BinaryIO) -> Walk:
    from dissect.fat import FATFS

    fs = FATFS(fh)
    seen: set[int] = set()
    data_start = fs.first_data_sector * fs.sector_size
    cs = fs.cluster_size

    def runs(entry: Any) -> Callable[[], Runs]:
        def get() -> Runs:
            return [(data_start + c * cs, n * cs) for c, n in entry.dataruns()]

        return get

    # Boot sector, FATs and (FAT12/16) the fixed root directory.
    yield Metadata(((0, data_start),))

    def visit(entry: Any, path: str, depth: int) -> Walk:
        try:
            blocks = tuple(runs(entry)()) if depth else ()
            children = list(entry.iterdir())
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
        yield Metadata(blocks)
        for child in children:
            if child.short_name in (".", "..") or child.is_volume_id():
                continue
            name = _fat_name(child)
            child_path = f"{path}/{name}"
            try:
                if child.is_directory():
                    if child.cluster in seen:
                        yield _loop(child_path)
                        continue
                    if depth >= MAX_DEPTH:
                        yield _too_deep(child_path)
                        continue
                    seen.add(child.cluster)
                    yield from visit(child, child_path, depth + 1)
                else:
                    yield FileRef(child_path, child.size, child.open, runs(child))
            except Exception as e:
                yield Problem(child_path, f"entry unreadable: {error_kind(e)}")

    yield from visit(fs.root, "", 0)


def _fat_name(entry: Any) -> str:
    """The entry's name; 8.3 names use Windows NT's lower-case flags as mtools and Windows write."""
    if entry.ldirents:
        return entry.name
    flags = entry.dirent.DIR_NTRes
    base, _, ext = entry.short_name.partition(".")
    base = base.lower() if flags & 0x08 else base
    ext = ext.lower() if flags & 0x10 else ext
    return f"{base}.{ext}" if ext else base


def _walk_exfat(fh: BinaryIO) -> Walk:
    from dissect.fat import ExFAT

    fs = ExFAT(fh)

    def sector_runs(entry: Any) -> list[tuple[int, int]]:
        stream = entry.stream
        contiguous = bool(stream.flags.not_fragmented)
        return list(
            fs.runlist(stream.location, contiguous, stream.data_length if contiguous else None)
        )

    def opener(entry: Any) -> Callable[[], BinaryIO]:
        def open_() -> BinaryIO:
            return RunlistStream(fh, sector_runs(entry), entry.stream.data_length, fs.sector_size)

        return open_

    def runs(entry: Any) -> Callable[[], Runs]:
        def get() -> Runs:
            ss = fs.sector_size
            return [(s * ss, n * ss) for s, n in sector_runs(entry)]

        return get

    def visit(entries: dict[str, Any], path: str, depth: int) -> Walk:
        for name, (entry, children) in entries.items():
            if name.strip("/") == "" and children is not None:  # dissect's entry for the root
                yield from visit(children, path, depth)
                continue
            child_path = f"{path}/{name.rstrip('/')}"
            if children is not None:
                if depth >= MAX_DEPTH:
                    yield _too_deep(child_path)
                    continue
                yield from visit(children, child_path, depth + 1)
            else:
                yield FileRef(child_path, entry.stream.data_length, opener(entry), runs(entry))

    yield from visit(fs.files, "", 0)


def _walk_ntfs(fh: BinaryIO) -> Walk:
    from dissect.ntfs import NTFS
    from dissect.ntfs.c_ntfs import ATTRIBUTE_TYPE_CODE

    fs = NTFS(fh)
    seen: set[int] = set()
    cs = fs.cluster_size

    def runs(record: Any, name: str = "", kind: Any = ATTRIBUTE_TYPE_CODE.DATA) -> Runs:
        return [(None if c is None else c * cs, n * cs) for c, n in record.dataruns(name, kind)]

    def file_runs(record: Any) -> Callable[[], Runs]:
        return lambda: runs(record)

    mft_runs: Runs | None = None

    def record_home(record: Any) -> Callable[[], tuple[int, int] | None]:
        def get() -> tuple[int, int] | None:
            # The record's offset in $MFT, placed on the volume through $MFT's own runs.
            nonlocal mft_runs
            if mft_runs is None:
                mft_runs = runs(fs.mft.get(0))
            pos = record.offset
            for start, length in mft_runs:
                if pos < length:
                    return None if start is None else (start + pos, fs._record_size)
                pos -= length
            return None

        return get

    def structure(record: Any, name: str, kind: Any) -> Metadata:
        try:
            found = runs(record, name, kind) if record.has_stream(name, kind) else []
        except (TypeError, FileNotFoundError):  # resident: inside the MFT already listed
            found = []
        return Metadata(tuple((o, n) for o, n in found if o is not None))

    def visit(record: Any, path: str, depth: int) -> Walk:
        seen.add(record.segment)
        try:
            index = structure(record, "$I30", ATTRIBUTE_TYPE_CODE.INDEX_ALLOCATION)
            entries = list(record.iterdir(ignore_dos=True))
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
        yield index
        names: set[str] = set()
        for entry in entries:
            name = entry.attribute.file_name
            if depth == 0 and name.startswith("$") and name not in names:
                names.add(name)  # $MFT, $LogFile, $Bitmap...: structures, not user files
                try:
                    yield structure(entry.dereference(), "", ATTRIBUTE_TYPE_CODE.DATA)
                except Exception as e:
                    log.debug("NTFS system file unreadable: %s", type(e).__name__)
                continue
            if name in names or name == ".":
                continue
            names.add(name)
            child_path = f"{path}/{name}"
            try:
                child = entry.dereference()
                if child.is_dir():
                    if child.segment in seen:
                        yield _loop(child_path)
                        continue
                    if depth >= MAX_DEPTH:
                        yield _too_deep(child_path)
                        continue
                    yield from visit(child, child_path, depth + 1)
                elif child.has_stream(""):
                    data = child.attributes[ATTRIBUTE_TYPE_CODE.DATA]
                    flags = 0
                    for attr in data:
                        if attr.name == "":
                            flags |= attr.header.flags
                    yield FileRef(
                        child_path,
                        child.size(""),
                        child.open,
                        None if child.resident else file_runs(child),
                        embedded=child.resident,
                        home=record_home(child) if child.resident else None,
                        # Compressed (LZNT1) or EFS-encrypted: the bytes on disk are not the text.
                        transformed=bool(flags & 0x40FF),
                    )
            except Exception as e:
                yield Problem(child_path, f"entry unreadable: {error_kind(e)}")

    yield from visit(fs.mft.get("/"), "", 0)


def _walk_apfs(fh: BinaryIO) -> Walk:
    # Untested here: no tool on Linux writes APFS; the container and volume API is dissect's.
    from dissect.apfs import APFS

    for volume in APFS(fh).volumes:
        label = f"APFS volume {volume.name!r}"
        if volume.is_encrypted:
            yield Problem(label, "encrypted (FileVault); no key")
            continue
        yield from _walk_apfs_volume(volume, label)


def _walk_apfs_volume(volume: Any, label: str) -> Walk:
    seen: set[int] = set()

    def visit(node: Any, path: str, depth: int) -> Walk:
        seen.add(node.oid)
        try:
            children = list(node.iterdir())
        except Exception as e:
            yield Problem(f"{label}:{path or '/'}", f"directory unreadable: {error_kind(e)}")
            return
        for child in children:
            child_path = f"{path}/{child.name}"
            try:
                inode = child.inode
                if inode.is_dir():
                    if inode.oid in seen:
                        yield _loop(f"{label}:{child_path}")
                    elif depth >= MAX_DEPTH:
                        yield _too_deep(f"{label}:{child_path}")
                    else:
                        yield from visit(inode, child_path, depth + 1)
                elif inode.is_file():
                    yield FileRef(f"{label}:{child_path}", inode.size, inode.open)
            except Exception as e:
                yield Problem(f"{label}:{child_path}", f"entry unreadable: {error_kind(e)}")

    yield from visit(volume.get("/"), "", 0)


_WALKERS: dict[str, Callable[[BinaryIO], Walk]] = {
    "ext": _walk_ext,
    "fat": _walk_fat,
    "exfat": _walk_exfat,
    "ntfs": _walk_ntfs,
    "apfs": _walk_apfs,
}

WALKABLE = frozenset(_WALKERS)
