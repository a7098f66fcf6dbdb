"""Does a regular file look like a disk image? Only then may an operator's path be wiped.

A disk image starts with a partition table or a file-system/volume signature (blkid from
util-linux knows them all, from ext4 to LUKS and LVM), keeps a GPT backup header in its last
sector, or holds nothing but zeros (a fresh image). A copy of /etc/passwd has none of these.

Images can be sparse and huge, so nothing here reads the whole file: blkid reads a few
sectors, the GPT check two, and the zeros check reads the file's data extents (SEEK_DATA)
when they are small, else its first MiBs, its last MiB and an even sample of the rest.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess

log = logging.getLogger(__name__)

MiB = 1024 * 1024
HEAD = 4 * MiB  # read in full: boot sectors, partition tables, most superblocks
TAIL = MiB  # GPT backup, md and some RAID metadata live at the end
READ_ALL_DATA = 64 * MiB  # data extents up to this size are read entirely
SAMPLES, SAMPLE = 64, 64 * 1024  # otherwise: this many reads of this size, spread evenly
MAX_EXTENTS = 4096  # beyond this, the rest of the file counts as one data extent
GPT_SIGNATURE = b"EFI PART"
SECTOR_SIZES = (512, 4096)


def recognize(path: str | os.PathLike[str]) -> str | None:
    """What makes `path` look like a disk image, or None when nothing does.

    Returns:
        e.g. "partition table (gpt)", "file system (ext4)", "GPT backup header", "all zeros".
    """
    text = os.fspath(path)
    found = _blkid(text)
    if found:
        return found
    with open(text, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size and _has_gpt_header(f.fileno(), size):
            return "GPT header"
        if size and _all_zeros(f.fileno(), size):
            return "all zeros"
    return None


def _blkid(path: str) -> str | None:
    """A partition table or superblock that blkid's low-level probe recognises."""
    cmd = ["blkid", "-p", "-o", "export", "--", path]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.debug("blkid could not probe %s: %s", path, e)
        return None
    if done.returncode == 8:  # "ambivalent": several signatures, still an image
        return "several file-system signatures"
    if done.returncode != 0:
        return None
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if values.get("PTTYPE"):
        return f"partition table ({values['PTTYPE']})"
    if values.get("TYPE"):
        return f"{values.get('USAGE') or 'file system'} ({values['TYPE']})"
    return None


def _has_gpt_header(fd: int, size: int) -> bool:
    """A GPT header at LBA 1, or its backup in the last sector (blkid trusts the primary only)."""
    for sector in SECTOR_SIZES:
        if size < 2 * sector:
            continue
        for offset in (sector, size - size % sector - sector):
            if os.pread(fd, len(GPT_SIGNATURE), offset) == GPT_SIGNATURE:
                return True
    return False


def _all_zeros(fd: int, size: int) -> bool:
    extents = _data_extents(fd, size)
    data = sum(length for _, length in extents)
    if data <= READ_ALL_DATA:
        ranges = extents
    else:
        ranges = [(0, min(HEAD, size)), (max(0, size - TAIL), min(TAIL, size))]
        ranges += _spread(extents, data)
    return all(_zero_range(fd, offset, length) for offset, length in ranges)


def _data_extents(fd: int, size: int) -> list[tuple[int, int]]:
    """The (offset, length) ranges that hold data; holes read as zeros and are skipped."""
    extents: list[tuple[int, int]] = []
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # no data after pos
                break
            return [(pos, size - pos)]  # no SEEK_DATA here: all of it counts as data
        if len(extents) >= MAX_EXTENTS:
            extents.append((start, size - start))
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        extents.append((start, end - start))
        pos = end
    return extents


def _spread(extents: list[tuple[int, int]], data: int) -> list[tuple[int, int]]:
    """SAMPLES reads of SAMPLE bytes at evenly spaced points of the data extents."""
    picks: list[tuple[int, int]] = []
    step = data / SAMPLES
    targets = iter(int(i * step) for i in range(SAMPLES))
    want = next(targets, None)
    seen = 0
    for offset, length in extents:
        while want is not None and want < seen + length:
            inside = offset + (want - seen)
            picks.append((inside, min(SAMPLE, offset + length - inside)))
            want = next(targets, None)
        seen += length
    return picks


def _zero_range(fd: int, offset: int, length: int) -> bool:
    zeros = bytes(MiB)
    end = offset + length
    while offset < end:
        chunk = os.pread(fd, min(MiB, end - offset), offset)
        if not chunk:
            return True
        if chunk != zeros[: len(chunk)]:
            return False
        offset += len(chunk)
    return True
