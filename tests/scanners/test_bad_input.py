"""Bad input: corrupt tables and file systems, loops, encryption, wiped and random drives."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from scanners.raw import RawOptions
from scanners.scan import ScanOptions, scan
from tests.scanners.disks import Disk, copy
from tests.scanners.documents import personnummer, totals
from tests.scanners.images import (
    GPT_LINUX,
    MiB,
    Volume,
    build_disk,
    make_fs,
    run,
    write_gpt,
    write_mbr,
)
from tests.scanners.test_raw import aes_pattern


def regions(report) -> list[tuple[str, str]]:
    return [(u.region, u.reason) for u in report.not_scannable]


def test_zeroed_drive_is_clean(tmp_path: Path, ext4_gpt: Disk, hasher) -> None:
    wiped = tmp_path / "wiped.img"
    with open(wiped, "wb") as f:
        f.truncate(ext4_gpt.path.stat().st_size)
    report = scan(wiped, hasher)
    assert report.total_findings == 0
    assert report.clean
    size = wiped.stat().st_size
    assert report.pass_results[0].stats["pages_uniform"] == -(-size // RawOptions().page_size)


def test_pattern_wiped_drive_is_clean_only_when_the_pattern_is_expected(
    tmp_path: Path, hasher
) -> None:
    pattern = aes_pattern(bytes(32))
    wiped = tmp_path / "aes.img"
    wiped.write_bytes(pattern(0, 24 * MiB))
    report = scan(wiped, hasher, ScanOptions(expected=pattern))
    assert report.clean
    assert report.pass_results[0].stats["pages_pattern"] == 24 * MiB // RawOptions().page_size
    # Without the expectation random bytes may be an encrypted volume: not scannable, not clean.
    blind = scan(wiped, hasher)
    assert not blind.clean
    assert regions(blind) == [
        (
            "whole disk (bytes 0-25165823)",
            "no file system, content looks random (encrypted or wiped with a random pattern)",
        )
    ]


def test_truncated_file_system_gives_raw_findings_and_not_scannable(
    tmp_path: Path, ext4_gpt: Disk, hasher
) -> None:
    cut = copy(ext4_gpt.path, tmp_path / "cut.img")
    os.truncate(cut, 21 * MiB)  # the partition starts at 1 MiB and was 40 MiB long
    report = scan(cut, hasher)
    assert report.pass_results[0].tally.counts["personnummer"] > 0
    missing = (
        "partition 1 (missing part) (bytes 22020096-42991615)",
        "partition extends past the end of the disk",
    )
    assert missing in regions(report)


def test_corrupt_file_system_superblock_is_not_scannable(
    tmp_path: Path, ext4_gpt: Disk, hasher
) -> None:
    bad = copy(ext4_gpt.path, tmp_path / "bad.img")
    with open(bad, "r+b") as f:  # keep the magic, break the counts and the block size before it
        f.seek(MiB + 1024)
        f.write(b"\xff" * 56)
    report = scan(bad, hasher)
    raw, files = report.pass_results
    assert raw.tally.counts["personnummer"] == totals(ext4_gpt.planted, "raw")["personnummer"]
    assert files.tally.total == 0
    [(region, reason)] = regions(report)
    assert region == "partition 1:/"
    assert reason.startswith("directory unreadable: ")


def test_corrupt_gpt_is_reported_and_the_raw_pass_still_counts(
    tmp_path: Path, ext4_gpt: Disk, hasher
) -> None:
    bad = copy(ext4_gpt.path, tmp_path / "badgpt.img")
    with open(bad, "r+b") as f:
        f.seek(512)
        f.write(b"EFI JUNK")  # the GPT header signature
    report = scan(bad, hasher)
    end = bad.stat().st_size - 1
    assert regions(report) == [
        (f"partition table (bytes 0-{end})", "partition table is corrupt; file systems not walked")
    ]
    assert report.findings["personnummer"].count == totals(ext4_gpt.planted, "raw")["personnummer"]


def test_mbr_partition_beyond_the_disk_end(tmp_path: Path, hasher) -> None:
    disk = tmp_path / "mbr.img"
    with open(disk, "wb") as f:
        f.truncate(8 * MiB)
    write_mbr(disk, [(2048, 4096, 0x83), (1 << 30, 2048, 0x07)])
    report = scan(disk, hasher)
    assert (
        "partition 2 (bytes 549755813888-549756862463)",
        "partition lies beyond the end of the disk",
    ) in regions(report)


def test_directory_loop_is_walked_once(tmp_path: Path, corpus_dir, hasher) -> None:
    source, planted = corpus_dir
    fs = make_fs("ext4", tmp_path / "loop.fs", 40 * MiB, source)
    run("debugfs", "-w", "-R", "ln /docs /docs/again", fs)  # a hard link to a directory: a cycle
    disk = tmp_path / "loop.img"
    build_disk(disk, "gpt", [Volume("ext4", 40 * MiB, image=fs)])
    report = scan(disk, hasher, ScanOptions(passes=("files",)))
    assert report.pass_results[0].stats["directory_loops"] == 1
    # raderad.txt is live on this file system
    assert report.findings["personnummer"].count == totals(planted, "files")["personnummer"] + 1
    assert report.not_scannable == ()


@pytest.mark.skipif(shutil.which("cryptsetup") is None, reason="cryptsetup is not installed")
def test_luks_partition_is_not_scannable(tmp_path: Path, hasher) -> None:
    luks = tmp_path / "luks.fs"
    with open(luks, "wb") as f:
        f.truncate(32 * MiB)
    subprocess.run(
        [
            "cryptsetup",
            "luksFormat",
            "--batch-mode",
            "--type",
            "luks2",
            "--pbkdf",
            "pbkdf2",
            "--pbkdf-force-iterations",
            "1000",
            str(luks),
            "-",
        ],
        input=b"secret",
        check=True,
        capture_output=True,
    )
    disk = tmp_path / "luks.img"
    build_disk(disk, "gpt", [Volume("raw", 32 * MiB, image=luks)])
    report = scan(disk, hasher)
    assert regions(report) == [("partition 1 (bytes 1048576-34603007)", "LUKS encrypted volume")]
    assert not report.clean


def test_bitlocker_partition_is_not_scannable(tmp_path: Path, hasher) -> None:
    # Linux cannot make BitLocker volumes; this boot sector carries only the signature Windows
    # writes ("-FVE-FS-" as OEM id), which is what detection reads.
    vol = tmp_path / "bitlocker.fs"
    with open(vol, "wb") as f:
        f.truncate(8 * MiB)
        f.write(b"\xeb\x58\x90-FVE-FS-" + bytes(499) + b"\x55\xaa")
    disk = tmp_path / "bl.img"
    build_disk(disk, "mbr", [Volume("ntfs", 8 * MiB, image=vol)])
    report = scan(disk, hasher)
    assert regions(report) == [
        ("partition 1 (bytes 1048576-9437183)", "BitLocker encrypted volume")
    ]


def test_luks_type_guid_alone_marks_the_partition(tmp_path: Path, hasher) -> None:
    disk = tmp_path / "guid.img"
    with open(disk, "wb") as f:
        f.truncate(8 * MiB)
    from tests.scanners.images import GPT_LUKS

    write_gpt(disk, [(2048, 8192, GPT_LUKS, "crypt"), (10240, 2048, GPT_LINUX, "data")])
    report = scan(disk, hasher, ScanOptions(passes=("files",)))
    assert regions(report)[0] == (
        "partition 1 (bytes 1048576-5242879)",
        "LUKS (Linux encrypted) partition",
    )


def test_random_drive_is_not_clean(tmp_path: Path, hasher) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(4 * MiB))
    report = scan(junk, hasher)
    assert not report.clean


def test_empty_exfat_volume_walks(tmp_path: Path, hasher) -> None:
    if shutil.which("mkfs.exfat") is None:
        pytest.skip("exfatprogs is not installed")
    fs = make_fs("exfat", tmp_path / "x.fs", 16 * MiB, None)
    disk = tmp_path / "exfat.img"
    build_disk(disk, "mbr", [Volume("exfat", 16 * MiB, image=fs)])
    report = scan(disk, hasher, ScanOptions(passes=("files",)))
    assert report.total_findings == 0
    assert report.not_scannable == ()
    assert report.pass_results[0].stats["volumes_exfat"] == 1


def test_zip_bomb_file_is_bounded(tmp_path: Path, hasher) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with zipfile.ZipFile(src / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = bytes(MiB)
            for _ in range(1024):  # 1 GiB of zeros, about 1 MB compressed
                member.write(chunk)
        z.writestr("note.txt", f"pnr {personnummer(99)}")
    fs = make_fs("ext4", tmp_path / "b.fs", 16 * MiB, src)
    disk = tmp_path / "bomb.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    report = scan(disk, hasher)
    assert report.findings["personnummer"].count == 1
    assert ("partition 1:/bomb.zip!zeros.bin", "over the unpack limit (zip bomb?)") in regions(
        report
    )
