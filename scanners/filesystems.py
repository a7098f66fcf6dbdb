"""Walk the live files of a volume through dissect (ext2/3/4, FAT, exFAT, NTFS, APFS), read-only.

Each walker yields `FileRef`s (path, size, a way to open the content) and `Problem`s for what it
could not read (a directory that fails to parse, an encrypted APFS volume). Directory cycles in a
corrupt file system are cut by remembering the directories already entered.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from dissect.util.stream import RunlistStream

from scanners.errors import error_kind

log = logging.getLogger(__name__)

MAX_DEPTH = 128


@dataclass(frozen=True, slots=True)
class FileRef:
    """A live file on a volume."""

    path: str
    size: int
    open: Callable[[], BinaryIO]


@dataclass(frozen=True, slots=True)
class Problem:
    """A part of the volume the walker could not read, and why."""

    path: str
    reason: str
    scanned: bool = False  # informational: the content was read another way (a directory loop)


Walk = Iterator[FileRef | Problem]


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

    def visit(node: Any, path: str, depth: int) -> Walk:
        seen.add(node.inum)
        try:
            children = list(node.iterdir())
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
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
                    yield FileRef(child_path, child.size, child.open)
            except Exception as e:
                yield Problem(child_path, f"entry unreadable: {error_kind(e)}")

    yield from visit(fs.get("/"), "", 0)


def _walk_fat(fh: BinaryIO) -> Walk:
    from dissect.fat import FATFS

    fs = FATFS(fh)
    seen: set[int] = set()

    def visit(entry: Any, path: str, depth: int) -> Walk:
        try:
            children = list(entry.iterdir())
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
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
                    yield FileRef(child_path, child.size, child.open)
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

    def opener(entry: Any) -> Callable[[], BinaryIO]:
        def open_() -> BinaryIO:
            stream = entry.stream
            contiguous = bool(stream.flags.not_fragmented)
            runs = fs.runlist(
                stream.location, contiguous, stream.data_length if contiguous else None
            )
            return RunlistStream(fh, runs, stream.data_length, fs.sector_size)

        return open_

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
                yield FileRef(child_path, entry.stream.data_length, opener(entry))

    yield from visit(fs.files, "", 0)


def _walk_ntfs(fh: BinaryIO) -> Walk:
    from dissect.ntfs import NTFS

    fs = NTFS(fh)
    seen: set[int] = set()

    def visit(record: Any, path: str, depth: int) -> Walk:
        seen.add(record.segment)
        try:
            entries = list(record.iterdir(ignore_dos=True))
        except Exception as e:
            yield Problem(path or "/", f"directory unreadable: {error_kind(e)}")
            return
        names: set[str] = set()
        for entry in entries:
            name = entry.attribute.file_name
            if name in names or (depth == 0 and name.startswith("$")) or name == ".":
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
                    yield FileRef(child_path, child.size(""), child.open)
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
