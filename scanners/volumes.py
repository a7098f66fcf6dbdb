"""Partitions and what lies in them, found through dissect.volume, read-only and never mounted.

The host kernel does not scan partitions (and must not mount customer drives), so the partition
table is parsed here, from the bytes. Each volume is then sniffed: a file system the file pass can
walk, an encrypted container (reported as not scannable, never as clean), or something else.
"""

from __future__ import annotations

import io
import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, BinaryIO
from uuid import UUID

from dissect.util.stream import AlignedStream, RangeStream
from dissect.volume.disk import Disk

from scanners.target import Span, Target

log = logging.getLogger(__name__)

_BLOCK = 64 << 10  # read granularity of the file pass

# Partition types that announce encryption before any byte is read.
_ENCRYPTED_TYPES = {
    UUID("CA7D7CCB-63ED-4C53-861C-1742536059CC"): "LUKS (Linux encrypted) partition",
    UUID("7FFEC5C9-2D00-49B7-8941-3EA10A5586B7"): "plain dm-crypt partition",
    UUID("53746F72-6167-11AA-AA11-00306543ECAC"): "Apple Core Storage (FileVault 2) volume",
}


@dataclass(frozen=True, slots=True)
class Volume:
    """A region of the target that may hold a file system."""

    label: str  # "partition 1" or "whole disk"
    offset: int
    size: int
    kind: str  # "ext" | "fat" | "exfat" | "ntfs" | "apfs" | "encrypted" | "unknown" | ...
    reason: str = ""  # what the sniffing saw (encryption scheme, unsupported file system)

    @property
    def region(self) -> str:
        """The volume as a report region."""
        return f"{self.label} ({Span(self.offset, self.offset + self.size)})"


class TargetStream(AlignedStream):
    """A dissect stream over the target whose unreadable sectors read as zeros and are noted.

    It also marks which aligned blocks were read, so the file pass reports the bytes of the target
    it read, not the sum of file sizes (a sparse or hard-linked file would count twice or more).
    """

    def __init__(self, target: Target) -> None:
        super().__init__(target.size, align=_BLOCK)
        self.target = target
        self.bad: list[Span] = []
        self._read_map = bytearray((target.size // _BLOCK + 8) // 8)
        self._blocks_read = 0

    def _read(self, offset: int, length: int) -> bytes:
        data = self.target.pread(offset, length, self.bad)
        self.mark_read(offset, len(data))
        return data

    def mark_read(self, offset: int, length: int) -> None:
        """Count [offset, offset + length) as read: here, or by a worker (`runfile.RunFile`)."""
        for block in range(offset // _BLOCK, (offset + length + _BLOCK - 1) // _BLOCK):
            byte, bit = block >> 3, 1 << (block & 7)
            if not self._read_map[byte] & bit:
                self._read_map[byte] |= bit
                self._blocks_read += 1

    @property
    def bytes_read(self) -> int:
        """Distinct bytes of the target read so far (whole blocks, capped at the target size)."""
        return min(self._blocks_read * _BLOCK, self.target.size)


def buffered(stream: TargetStream) -> BinaryIO:
    """`stream` as the file dissect's parsers read: small reads (an inode, a file's head) buffered.

    16 KiB: every file's first read and every inode read fill the buffer. At 1 MiB the file
    pass read 6.6 GB of the 1.02 GB mixed image, at 64 KiB 957 MB, at 16 KiB 707 MB, in the
    same CPU time (the stream itself reads 64 KiB blocks).
    """
    return io.BufferedReader(stream, buffer_size=16 << 10)  # type: ignore[arg-type]


def find_volumes(
    fh: BinaryIO, size: int, sector_size: int | None = None
) -> tuple[list[Volume], str]:
    """The volumes of a disk: its partitions, or the whole disk when it has no partition table.

    Args:
        fh: the disk's bytes.
        size: the disk's size in bytes.
        sector_size: the device's logical sector size; None for an image, where it is read from
            the GPT header's position (LBA 1 at byte 512 or 4096).

    Returns:
        The volumes, and a note on the partition table ("gpt", "mbr", or why none was used).
    """
    head = _read(fh, 0, 8192)
    sector_size = sector_size or gpt_sector_size(head) or 512
    try:
        fh.seek(0)
        disk = Disk(fh, sector_size=sector_size)
    except Exception as e:  # dissect raises bare Exceptions for every malformed table
        log.debug("no partition table: %s", type(e).__name__)  # messages may quote disk bytes
        whole = sniff(fh, "whole disk", 0, size)
        if whole.kind == "unknown" and (
            head[510:512] == b"\x55\xaa" or gpt_sector_size(head) is not None
        ):
            return [
                Volume(
                    "partition table",
                    0,
                    size,
                    "invalid",
                    "partition table is corrupt; file systems not walked",
                )
            ], "corrupt"
        return [whole], "none"
    scheme = type(disk.scheme).__name__.lower()
    partitions = _own_partitions(disk.partitions, scheme, disk.sector_size)
    volumes = []
    for p in partitions:
        if hasattr(p.raw, "last_lba"):
            # dissect.volume 3.x drops the last sector of GPT partitions (LBAs are inclusive).
            p.size = (p.raw.last_lba - p.raw.first_lba + 1) * disk.sector_size
        end = min(p.offset + p.size, size)
        if p.offset >= size or end <= p.offset:
            volumes.append(
                Volume(
                    f"partition {p.number}",
                    p.offset,
                    p.size,
                    "invalid",
                    "partition lies beyond the end of the disk",
                )
            )
            continue
        label = f"partition {p.number}"
        if end < p.offset + p.size:
            volumes.append(
                Volume(
                    f"partition {p.number} (missing part)",
                    end,
                    p.offset + p.size - end,
                    "invalid",
                    "partition extends past the end of the disk",
                )
            )
        if p.type in _ENCRYPTED_TYPES:
            volumes.append(
                Volume(label, p.offset, end - p.offset, "encrypted", _ENCRYPTED_TYPES[p.type])
            )
            continue
        volumes.append(sniff(fh, label, p.offset, end - p.offset))
    if not volumes:
        return [sniff(fh, "whole disk", 0, size)], f"{scheme} (no partitions)"
    return volumes, scheme


def gpt_sector_size(head: bytes) -> int | None:
    """The sector size a GPT header's position gives (it lies at LBA 1), or None without one."""
    for sector_size in (512, 4096):
        if head[sector_size : sector_size + 8] == b"EFI PART":
            return sector_size
    return None


def _own_partitions(partitions: list[Any], scheme: str, sector_size: int) -> list[Any]:
    """Partitions to sniff: no extended containers or protective entries.

    On a GPT disk with a hybrid MBR (Boot Camp, gdisk's hybrid option) dissect lists the MBR's
    entries too: those that describe a GPT partition again are dropped, so none is walked twice.
    """
    own = [p for p in partitions if p.type not in (0x05, 0x0F, 0x85, 0xEE)]
    if scheme != "gpt":
        return own
    gpt = [p for p in own if hasattr(p.raw, "last_lba")]
    spans = [
        (p.offset, p.offset + (p.raw.last_lba - p.raw.first_lba + 1) * sector_size) for p in gpt
    ]
    mbr = [
        p
        for p in own
        if not hasattr(p.raw, "last_lba")
        and not any(p.offset < end and start < p.offset + p.size for start, end in spans)
    ]
    return gpt + mbr


def sniff(fh: BinaryIO, label: str, offset: int, size: int) -> Volume:
    """Name what a region holds from its first bytes (magic numbers, then entropy)."""
    head = _read(fh, offset, 128 << 10)
    kind, reason = _magic(head)
    if kind == "unknown":
        damaged = _damaged(fh, offset, size)
        if damaged:
            return Volume(label, offset, size, "invalid", damaged)
    if kind == "unknown" and _entropy(head) > 7.9:
        reason = "no file system, content looks random (encrypted or wiped with a random pattern)"
        kind = "random"
    return Volume(label, offset, size, kind, reason)


def open_volume(fh: BinaryIO, volume: Volume) -> BinaryIO:
    """A stream over the volume's bytes only."""
    return RangeStream(fh, volume.offset, volume.size)


def _magic(head: bytes) -> tuple[str, str]:
    if head[0:6] in (b"LUKS\xba\xbe", b"SKUL\xba\xbe"):
        return "encrypted", "LUKS encrypted volume"
    if head[3:11] == b"-FVE-FS-":
        return "encrypted", "BitLocker encrypted volume"
    if head[3:11] == b"NTFS    ":
        return "ntfs", ""
    if head[3:11] == b"EXFAT   ":
        return "exfat", ""
    if len(head) > 1082 and head[1080:1082] == b"\x53\xef":
        return "ext", ""
    if head[32:36] == b"NXSB":
        return "apfs", ""
    if head[88:90] == b"CS" and head[510:512] != b"\x55\xaa":
        return "encrypted", "Apple Core Storage (FileVault 2) volume"
    if head[1024:1026] in (b"H+", b"HX"):
        return "unsupported", "HFS+ file system (not walked by the file pass)"
    if head[0:4] == b"XFSB":
        return "unsupported", "XFS file system (not walked by the file pass)"
    if head[0x10040:0x10048] == b"_BHRfS_M":
        return "unsupported", "Btrfs file system (not walked by the file pass)"
    if head[510:512] == b"\x55\xaa" and (
        head[54:59] == b"FAT12"
        or head[54:59] == b"FAT16"
        or head[82:87] == b"FAT32"
        or head[0] in (0xEB, 0xE9)
    ):
        return "fat", ""
    return "unknown", ""


# Where ext2/3/4 keeps its first backup superblock: block group 1, for 1, 2 and 4 KiB blocks.
_EXT_BACKUPS = (8193 * 1024, 16384 * 2048, 32768 * 4096)


def _damaged(fh: BinaryIO, offset: int, size: int) -> str:
    """Why a region without a known start is a damaged file system, or "" when it is not one.

    A file system whose first sectors were overwritten (a random or zeroed superblock) still has
    its backups; the file pass cannot walk it, so it must be listed, not passed over as unknown.
    """
    for at in _EXT_BACKUPS:
        if at + 1024 <= size and _read(fh, offset + at + 56, 2) == b"\x53\xef":
            return "ext file system with a damaged superblock (a backup remains); not walked"
    if size >= 4096:
        tail = _read(fh, offset + size - 512, 512)  # NTFS keeps a copy of its boot sector last
        if tail[3:11] == b"NTFS    ":
            return "NTFS file system with a damaged boot sector (the backup remains); not walked"
    return ""


def _read(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    return fh.read(length)


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())
