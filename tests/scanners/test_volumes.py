"""Partition tables as real disks have them: hybrid MBR+GPT, 4096-byte sectors, sparse files.

The layouts are those of dissect.volume's test images `gpt_hybrid.bin` and `gpt_4k.bin` (see
tests/data/README.md), written here by our own code over file systems with planted values.
"""

from __future__ import annotations

import os
from pathlib import Path

from scanners.scan import ScanOptions, scan
from scanners.target import Target
from tests.scanners.documents import personnummer
from tests.scanners.images import MiB, Volume, build_disk, make_fs

FILES = ScanOptions(passes=("files",))


def _planted_fs(tmp_path: Path, name: str, n: int = 3) -> Path:
    src = tmp_path / f"{name}-src"
    src.mkdir()
    (src / "kunder.txt").write_text(
        "".join(f"Kund personnummer {personnummer(i)}\n" for i in range(n))
    )
    return make_fs("ext4", tmp_path / f"{name}.fs", 16 * MiB, src)


def test_hybrid_mbr_gpt_walks_each_partition_once(tmp_path: Path, hasher) -> None:
    fs = _planted_fs(tmp_path, "hybrid")
    disk = tmp_path / "hybrid.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)], hybrid=[0])
    report = scan(disk, hasher)
    files = report.pass_results[1]
    assert files.stats["volumes"] == 1
    assert files.stats["files_matched_by_raw"] == 1  # read once, by the raw pass (extent map)
    assert report.findings["personnummer"].count == 3
    assert report.not_scannable == ()


def test_gpt_on_4096_byte_sectors_is_read_from_an_image(tmp_path: Path, hasher) -> None:
    fs = _planted_fs(tmp_path, "4k")
    disk = tmp_path / "gpt4k.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)], sector=4096)
    report = scan(disk, hasher, FILES)
    assert report.not_scannable == ()
    assert report.pass_results[0].stats["volumes_ext"] == 1
    assert report.findings["personnummer"].count == 3


def test_sector_size_comes_from_a_4kn_device(tmp_path: Path, make_loop, hasher) -> None:
    fs = _planted_fs(tmp_path, "4kn")
    disk = tmp_path / "gpt4kn.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)], sector=4096)
    device = make_loop(image=disk, sector_size=4096, read_only=True)
    with Target(device) as target:
        assert target.sector_size == 4096
    with Target(disk) as target:
        assert target.sector_size is None
    report = scan(device, hasher, FILES)
    assert report.not_scannable == ()
    assert report.findings["personnummer"].count == 3


def test_bytes_scanned_counts_bytes_of_the_target_not_file_sizes(tmp_path: Path, hasher) -> None:
    src = tmp_path / "sparse-src"
    src.mkdir()
    with open(src / "sparse.bin", "wb") as f:
        f.truncate(24 * MiB)  # larger than the whole disk; a hole reads as zeros
        f.write(f"pnr {personnummer(1)}".encode())
    fs = make_fs("ext4", tmp_path / "sparse.fs", 16 * MiB, src)
    disk = tmp_path / "sparse.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    report = scan(disk, hasher, FILES)
    assert report.findings["personnummer"].count == 1
    assert 0 < report.bytes_scanned <= disk.stat().st_size


def test_ext4_with_a_random_superblock_is_not_scannable(tmp_path: Path, hasher) -> None:
    fs = _planted_fs(tmp_path, "randsb", n=1)
    with open(fs, "r+b") as f:  # magic, counts and features all random
        f.seek(1024)
        f.write(os.urandom(1024))
    disk = tmp_path / "randsb.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    report = scan(disk, hasher)
    assert report.findings["personnummer"].count == 1  # the raw pass still reads it
    assert [(u.region, u.reason) for u in report.not_scannable] == [
        (
            "partition 1 (bytes 1048576-17825791)",
            "ext file system with a damaged superblock (a backup remains); not walked",
        )
    ]
