"""Injected medium errors: QEMU blkdebug fails writes at one sector under an NVMe drive."""

from __future__ import annotations

import pytest
from labkit import Lab
from labkit.layout import FAULT_SECTOR, PATTERN

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
