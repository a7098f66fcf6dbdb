"""Injected medium errors: QEMU blkdebug fails writes at one sector under an NVMe drive.

The raw facts first (dd), then the wipe engine through the CLI; the wipe runs last because it
overwrites the drive.
"""

from __future__ import annotations

import json

import pytest
from labkit import Lab
from labkit.layout import FAULT_SECTOR, PATTERN, MiB

pytestmark = pytest.mark.lab

BLOCK = 4096


def test_direct_write_at_the_faulty_sector_fails(lab: Lab) -> None:
    dev = lab.dev["nvme1"]
    bad = lab.guest.run(
        f"dd if=/dev/zero of={dev} bs={BLOCK} count=1 seek={FAULT_SECTOR * 512 // BLOCK} "
        "oflag=direct"
    )
    assert bad.rc == 1
    # The NVMe completion is a media error (Write Fault), which the block layer reports as
    # BLK_STS_MEDIUM = ENODATA, not EIO.
    assert f"error writing '{dev}': No data available" in bad.output
    kernel = lab.guest.run("dmesg | grep -E 'I/O Cmd|critical medium error'").output
    assert f"@ LBA {FAULT_SECTOR}" in kernel


def test_direct_write_elsewhere_on_the_faulty_drive_succeeds(lab: Lab) -> None:
    dev = lab.dev["nvme1"]
    with lab.images["nvme1"].open("rb") as image:
        assert image.read(len(PATTERN)) == PATTERN
    good = lab.guest.run(f"dd if=/dev/zero of={dev} bs={BLOCK} count=1 oflag=direct")
    assert good.rc == 0, good.output
    with lab.images["nvme1"].open("rb") as image:
        assert image.read(BLOCK) == bytes(BLOCK)  # reached the host image


def test_overwrite_records_the_bad_range_and_fails(lab: Lab) -> None:
    dev, image = lab.dev["nvme1"], lab.images["nvme1"]
    result = lab.guest.cli(
        "wipe", dev, "--level", "clear", "--method", "overwrite-zeros", "--yes", "--json"
    )
    report = json.loads(result.output)
    assert result.rc == 1, result.stderr
    assert report["outcome"] == "failed"
    (bad,) = report["errors"]
    # The failed 8 MiB buffer is retried in 64 KiB blocks: one small range holds the sector.
    start, length = bad["offset"], bad["length"]
    assert start <= FAULT_SECTOR * 512 < start + length
    assert length <= 64 * 1024
    assert (bad["errno"], bad["error"], bad["message"]) == (61, "ENODATA", "No data available")
    assert bad["step"] == "pass 1/1 zeros"
    assert report["reason"] == (
        f"{bad['length']} bytes could not be written in pass 1/1 zeros (1 ranges, first at byte "
        f"{bad['offset']}: ENODATA No data available)"
    )
    assert report["bytes_written"] == report["size_bytes"] - bad["length"]
    assert report["verification"]["outcome"] == "not run"  # no certificate path goes on
    assert result.stderr == f"Error: wipe failed: {report['reason']}\n"
    with image.open("rb") as f:
        assert f.read(MiB) == bytes(MiB)  # the rest of the drive was written
