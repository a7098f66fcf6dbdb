"""Partitions and what lies in them, found through dissect.volume, read-only and never mounted.

The host kernel does not scan partitions (and must not mount customer drives), so the partition
table is parsed here, from the bytes. Each volume is then sniffed: a file system the file pass can
walk, an encrypted container (reported as not scannable, never as clean), or something else.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from dissect.util.stream import AlignedStream, RangeStream
from dissect.volume.disk import Disk

from scanners.target import Span, Target

log = logging.getLogger(__name__)

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
    """A dissect stream over the target whose unreadable sectors read as zeros and are noted."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.size, align=64 << 10)
        self.target = target
        self.bad: list[Span] = []

    def _read(self, offset: int, length: int) -> bytes:
        return self.target.pread(offset, length, self.bad)


def find_volumes(fh: BinaryIO, size: int) -> tuple[list[Volume], str]:
    """The volumes of a disk: its partitions, or the whole disk when it has no partition table.

    Returns:
        The volumes, and a note on the partition table ("gpt", "mbr", or why none was used).
    """
    try:
        disk = Disk(fh)
    except Exception as e:  # dissect raises bare Exceptions for every malformed table
        log.debug("no partition table: %s", type(e).__name__)  # messages may quote disk bytes
        whole = sniff(fh, "whole disk", 0, size)
        head = _read(fh, 0, 1024)
        if whole.kind == "unknown" and (
            head[510:512] == b"\x55\xaa" or head[512:520] == b"EFI PART"
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
    volumes = []
    for p in disk.partitions:
        if p.type in (0x05, 0x0F, 0x85, 0xEE):  # extended containers and GPT protective entries
            continue
        if scheme == "gpt":
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


def sniff(fh: BinaryIO, label: str, offset: int, size: int) -> Volume:
    """Name what a region holds from its first bytes (magic numbers, then entropy)."""
    head = _read(fh, offset, 128 << 10)
    kind, reason = _magic(head)
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


def _read(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    return fh.read(length)


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())
