"""Build drive images with the real tools: partition tables written here, file systems by mkfs.

Reusable by the pipeline tests: `build_disk(path, scheme, [Volume(...)])` lays file system images
(made with mkfs.ext4 -d, mkfs.vfat + mcopy, mkntfs + ntfscp, mkfs.exfat) behind an MBR or GPT that
this module writes byte by byte (sfdisk is not installed, and writing the table ourselves lets the
tests corrupt it on purpose).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
SECTOR = 512

GPT_LINUX = uuid.UUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")
GPT_BASIC_DATA = uuid.UUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
GPT_LUKS = uuid.UUID("CA7D7CCB-63ED-4C53-861C-1742536059CC")
MBR_TYPES = {"ext4": 0x83, "fat": 0x0C, "ntfs": 0x07, "exfat": 0x07, "raw": 0x83}
GPT_TYPES = {
    "ext4": GPT_LINUX,
    "fat": GPT_BASIC_DATA,
    "ntfs": GPT_BASIC_DATA,
    "exfat": GPT_BASIC_DATA,
    "raw": GPT_LINUX,
}


def run(*cmd: str | Path) -> None:
    """Run a tool; its output is kept only for the failure message."""
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def tools_missing() -> str | None:
    """The first tool these builders need that is not installed, or None."""
    for tool in ("mkfs.ext4", "debugfs", "mkfs.vfat", "mcopy", "mdel", "mkntfs", "ntfscp"):
        if shutil.which(tool) is None:
            return tool
    return None


@dataclass(frozen=True)
class Volume:
    """One partition to build: a file system of `fs` over the files in `source`."""

    fs: str  # "ext4" | "fat" | "ntfs" | "exfat" | "raw" (bytes of `image` as they are)
    size: int
    source: Path | None = None
    image: Path | None = None  # a prepared file system image (used as is)


def make_fs(fs: str, image: Path, size: int, source: Path | None) -> Path:
    """Create a file system image holding the files under `source`."""
    with open(image, "wb") as f:
        f.truncate(size)
    if fs == "ext4":
        args = ["mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0"]
        run(*args, *(["-d", source] if source else []), image)
    elif fs == "fat":
        run("mkfs.vfat", "-F", "32" if size >= 64 * MiB else "16", image)
        if source:
            for child in sorted(source.iterdir()):
                run("mcopy", "-s", "-i", image, child, "::/")
    elif fs == "ntfs":
        run("mkntfs", "-q", "-F", "-f", "-s", "512", image)
        if source:
            _ntfs_copy(image, source)
    elif fs == "exfat":
        run("mkfs.exfat", image)
        if source:
            with mounted_exfat(image) as mnt:
                for child in sorted(source.iterdir()):
                    if child.is_dir():
                        shutil.copytree(child, mnt / child.name)
                    else:
                        shutil.copyfile(child, mnt / child.name)
    else:
        raise ValueError(f"unknown fs {fs}")
    return image


def fat_with_a_hole(work: Path) -> Path:
    """A FAT16 image of 512-byte clusters: X1.TXT, a free cluster where X2.TXT was, X3.TXT.

    The next file copied in takes the hole and goes on past X3.TXT: two runs.
    """
    image = work / "fat.img"
    with open(image, "wb") as f:
        f.truncate(8 * MiB)
    run("mkfs.vfat", "-F", "16", "-s", "1", image)
    for name, body in (("X1.TXT", b"a" * 500), ("X2.TXT", b"b" * 500), ("X3.TXT", b"c" * 500)):
        (work / name).write_bytes(body)
        run("mcopy", "-i", image, work / name, "::/")
    run("mdel", "-i", image, "::/X2.TXT")
    return image


def _ntfs_copy(image: Path, source: Path) -> None:
    # ntfscp cannot create directories, so the tree is flattened into the root with its name.
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = str(path.relative_to(source)).replace("/", "_")
        run("ntfscp", "-f", image, path, name)


@contextmanager
def mounted_exfat(image: Path) -> Iterator[Path]:
    """Mount an exFAT image through exfat-fuse (the kernel has no exFAT driver here).

    The loop device is this function's own, attached here and detached by its name.
    """
    loop = subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    mnt = image.with_suffix(".mnt")
    mnt.mkdir(exist_ok=True)
    try:
        run("mount.exfat-fuse", loop, mnt)
        try:
            yield mnt
        finally:
            run("umount", mnt)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)
        mnt.rmdir()


def delete_exfat(image: Path, path: str) -> None:
    """Delete a file on exFAT: the entry set is marked unused, the clusters keep the data."""
    with mounted_exfat(image) as mnt:
        (mnt / path.lstrip("/")).unlink()


def delete_ext4(image: Path, path: str) -> None:
    """Unlink a file with debugfs: its data blocks stay on the medium (a deleted file)."""
    run("debugfs", "-w", "-R", f"rm {path}", image)


def delete_fat(image: Path, path: str) -> None:
    """Delete a file with mtools: the directory entry is marked free, the data stays."""
    run("mdel", "-i", image, f"::{path}")


def write_mbr(
    disk: Path, parts: list[tuple[int, int, int]], *, signature: int = 0x12345678
) -> None:
    """Write an MBR with up to four (start_lba, sectors, type) primary partitions."""
    table = b""
    for start, sectors, ptype in parts:
        table += struct.pack(
            "<B3sB3sII", 0, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", start, sectors
        )
    table = table.ljust(64, b"\0")
    mbr = bytes(440) + struct.pack("<IH", signature, 0) + table + b"\x55\xaa"
    with open(disk, "r+b") as f:
        f.write(mbr)


def write_gpt(
    disk: Path,
    parts: list[tuple[int, int, uuid.UUID, str]],
    *,
    sector: int = SECTOR,
    hybrid: list[int] = (),  # type: ignore[assignment]
) -> None:
    """Write a protective MBR, GPT header and entries, and the backup GPT at the disk end.

    `sector` 4096 lays it out as on a 4Kn drive; `hybrid` lists GPT partitions (by index) that the
    MBR also describes, as gdisk's hybrid MBR (Boot Camp) does, after the protective 0xEE entry.
    """
    SECTOR = sector  # noqa: N806 - the layout below is in this disk's sectors
    size = disk.stat().st_size
    last_lba = size // SECTOR - 1
    entries = b""
    for start, sectors, ptype, name in parts:
        entries += struct.pack(
            "<16s16sQQQ72s",
            ptype.bytes_le,
            uuid.uuid4().bytes_le,
            start,
            start + sectors - 1,
            0,
            name.encode("utf-16-le"),
        )
    entries = entries.ljust(128 * 128, b"\0")
    entry_sectors = len(entries) // SECTOR
    entries_crc = zlib.crc32(entries)
    disk_guid = uuid.uuid4().bytes_le

    def header(current: int, backup: int, entries_lba: int) -> bytes:
        fields = struct.pack(
            "<8sIIIIQQQQ16sQIII",
            b"EFI PART",
            0x00010000,
            92,
            0,
            0,
            current,
            backup,
            2 + entry_sectors,
            last_lba - 1 - entry_sectors,
            disk_guid,
            entries_lba,
            128,
            128,
            entries_crc,
        )
        crc = zlib.crc32(fields)
        return (fields[:16] + struct.pack("<I", crc) + fields[20:]).ljust(SECTOR, b"\0")

    mbr = [(1, min(last_lba, 0xFFFFFFFF) if not hybrid else 2 + entry_sectors - 1, 0xEE)]
    mbr += [(parts[i][0], parts[i][1], 0x83) for i in hybrid]
    write_mbr(disk, mbr, signature=0)
    with open(disk, "r+b") as f:
        f.seek(SECTOR)
        f.write(header(1, last_lba, 2))
        f.write(entries)
        f.seek((last_lba - entry_sectors) * SECTOR)
        f.write(entries)
        f.seek(last_lba * SECTOR)
        f.write(header(last_lba, 1, last_lba - entry_sectors))


def build_disk(
    disk: Path,
    scheme: str,
    volumes: list[Volume],
    *,
    work: Path | None = None,
    sector: int = SECTOR,
    hybrid: list[int] = (),  # type: ignore[assignment]
) -> list[int]:
    """Build a disk image: partitions at 1 MiB alignment behind an "mbr" or "gpt" table, or the
    single volume alone with scheme "none". Returns each volume's byte offset.

    `sector` and `hybrid` shape a GPT as `write_gpt` says (4Kn drive, hybrid MBR)."""
    work = work or disk.parent
    offsets = []
    pos = 0 if scheme == "none" else MiB
    for vol in volumes:
        offsets.append(pos)
        pos += vol.size
    total = pos + (MiB if scheme == "gpt" else 0)
    with open(disk, "wb") as f:
        f.truncate(total)
    for i, (vol, offset) in enumerate(zip(volumes, offsets, strict=True)):
        image = vol.image or make_fs(
            vol.fs, work / f"{disk.stem}-p{i + 1}.fs", vol.size, vol.source
        )
        _copy_into(image, disk, offset)
    if scheme == "mbr":
        write_mbr(
            disk,
            [
                (o // SECTOR, v.size // SECTOR, MBR_TYPES[v.fs])
                for v, o in zip(volumes, offsets, strict=True)
            ],
        )
    elif scheme == "gpt":
        write_gpt(
            disk,
            [
                (o // sector, v.size // sector, GPT_TYPES[v.fs], f"p{i}")
                for i, (v, o) in enumerate(zip(volumes, offsets, strict=True))
            ],
            sector=sector,
            hybrid=hybrid,
        )
    return offsets


def _copy_into(image: Path, disk: Path, offset: int) -> None:
    # Sparse copy: only the blocks the file system wrote, so large images stay cheap.
    src = os.open(image, os.O_RDONLY)
    dst = os.open(disk, os.O_WRONLY)
    try:
        size = os.fstat(src).st_size
        pos = 0
        while pos < size:
            try:
                data_start = os.lseek(src, pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(src, data_start, os.SEEK_HOLE)
            cur = data_start
            while cur < hole:
                chunk = os.pread(src, min(8 * MiB, hole - cur), cur)
                os.pwrite(dst, chunk, offset + cur)
                cur += len(chunk)
            pos = hole
    finally:
        os.close(src)
        os.close(dst)


@contextmanager
def eio_file(
    work: Path, make_loop: Callable[..., Path], data: bytes, bad: list[int]
) -> Iterator[Path]:
    """A file holding `data` whose 4 KiB blocks at the offsets in `bad` fail with a real EIO.

    The file lives on a btrfs file system (in an image on a loop device this fixture attaches and
    mounts); the blocks are then corrupted underneath btrfs, whose data checksums turn every read
    of them into EIO from the kernel. `data` must not repeat any 4 KiB block it holds at `bad`.
    """
    fs_image = work / "btrfs.img"
    with open(fs_image, "wb") as f:
        f.truncate(max(256 * MiB, 4 * len(data)))
    run("mkfs.btrfs", "-q", fs_image)
    loop = make_loop(image=fs_image)
    mnt = work / "btrfs"
    mnt.mkdir()
    run("mount", loop, mnt)
    try:
        (mnt / "disk.img").write_bytes(data)
        os.sync()
    finally:
        run("umount", mnt)
    raw = fs_image.read_bytes()
    with open(fs_image, "r+b") as f:
        for offset in bad:
            block = data[offset : offset + 4096]
            where = raw.find(block)
            if where < 0 or raw.find(block, where + 1) >= 0:
                raise ValueError(f"block at {offset} is not unique in the btrfs image")
            f.seek(where)
            f.write(bytes(b ^ 0xFF for b in block[:64]))
    run("mount", "-o", "ro", loop, mnt)
    try:
        yield mnt / "disk.img"
    finally:
        run("umount", mnt)


def table_image(work: Path, last_column: str, cell: Callable[[int], str]) -> tuple[bytes, int]:
    """An ext4 image of one table (599 rows with a personnummer column and `last_column`,
    whose cells `cell` gives), and the offset of a block in the table's middle (for `eio_file`).
    """
    from tests.scanners.documents import personnummer

    src = work / "src"
    src.mkdir()
    rows = "".join(f"{i};Anna Berg;{personnummer(i)};{cell(i)}\n" for i in range(1, 600))
    (src / "kunder.csv").write_text(f"id;namn;personnummer;{last_column}\n" + rows)
    data = make_fs("ext4", work / "fs.img", 16 * MiB, src).read_bytes()
    return data, data.find(b"\n300;") // 4096 * 4096
