"""NVMe Format NVM with Secure Erase Settings 1, for real, on a drive with a planted file system."""

from __future__ import annotations

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


def test_nvme_format_ses1_leaves_the_image_all_zero(lab: Lab) -> None:
    dev, image = lab.dev["nvme0"], lab.images["nvme0"]
    assert PLANTED_TEXT in image.read_bytes()
    fs = lab.guest.run(f"blkid -o export {dev}").check().output
    assert "TYPE=ext4" in fs
    assert "LABEL=customer" in fs

    result = lab.guest.run(f"nvme format {dev} --ses=1 --force").check()
    assert "Success formatting namespace:1" in result.output

    assert nonzero_chunks(image) == 0  # every byte of the host image file
    lab.guest.run(f"blockdev --flushbufs {dev}").check()
    guest_view = lab.guest.run(f"cmp {dev} /dev/zero")
    assert guest_view.rc == 1
    assert f"EOF on {dev}" in guest_view.output
    assert lab.guest.run(f"blkid -p {dev}").rc == 2  # no file system left


@pytest.mark.skip(reason="wipe engine not merged yet")
def test_nvme_purge_through_the_wipe_cli(lab: Lab) -> None:
    """TODO(phase 2): `asset-pipeline wipe --method nvme-format` on nvme0, marker check, zeros."""
