"""NVMe purge for real: `asset-pipeline wipe --method nvme-format-ses1` on a drive with a planted
file system, driven through the station's CLI in the guest (nvme-cli, kernel nvme driver, QEMU's
NVMe Format NVM with Secure Erase Settings 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labkit import Lab
from labkit.layout import PLANTED_TEXT

pytestmark = pytest.mark.lab

CHUNK = 1 << 20


def nonzero_chunks(image: Path) -> int:
    count = 0
    with image.open("rb") as f:
        while chunk := f.read(CHUNK):
            count += chunk.count(0) != len(chunk)
    return count


def test_nvme_format_purge_through_the_wipe_cli(lab: Lab) -> None:
    dev, image = lab.dev["nvme0"], lab.images["nvme0"]
    assert PLANTED_TEXT in image.read_bytes()
    fs = lab.guest.run(f"blkid -o export {dev}").check().output
    assert "TYPE=ext4" in fs
    assert "LABEL=customer" in fs

    result = lab.guest.cli(
        "wipe", dev, "--level", "purge", "--method", "nvme-format-ses1", "--yes", "--json"
    )
    assert result.rc == 0, result.stderr
    report = json.loads(result.output)
    assert report["outcome"] == "passed", report
    assert report["plan"]["method"] == "nvme-format-ses1"
    assert report["verification"]["method"] == "markers"
    assert report["verification"]["mismatches"] == []
    assert report["bytes_written"] == 0  # the drive erased itself

    assert nonzero_chunks(image) == 0  # every byte of the host image file
    assert lab.guest.run(f"blkid -p {dev}").rc == 2  # no file system left in the guest's view
