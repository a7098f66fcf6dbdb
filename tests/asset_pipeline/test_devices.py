"""Drive identification on real loop devices and image files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asset_pipeline import devices
from tests.conftest import MiB, needs_loop
from wipe import NotATarget, TargetNotFound


@needs_loop
def test_identify_loop_device(make_loop) -> None:
    dev = make_loop(size=20 * MiB, sector_size=4096)
    drive = devices.identify(dev)
    assert (drive.kind, drive.transport, drive.media_type) == ("block", "loop", "virtual")
    assert drive.size_bytes == 20 * MiB
    assert (drive.logical_sector_size, drive.system, drive.writable) == (4096, False, True)
    assert drive.model == "Linux loop device"
    assert drive.loop_backing_file is not None
    assert drive.loop_backing_file.endswith("disk0.img")


@needs_loop
def test_discover_lists_attached_loop_but_not_empty_ones(make_loop) -> None:
    dev = make_loop(size=8 * MiB)
    paths = {d.path for d in devices.discover()}
    assert str(dev) in paths
    assert all(d.size_bytes > 0 for d in devices.discover())


def test_identify_image_file(tmp_path: Path) -> None:
    image = tmp_path / "laptop-42.img"
    image.touch()
    os.truncate(image, 7 * MiB + 512)
    drive = devices.identify(image)
    assert (drive.kind, drive.transport, drive.serial, drive.size_bytes) == (
        "image",
        "image",
        "laptop-42.img",
        7 * MiB + 512,
    )
    assert drive.to_dict()["partitions"] == []


def test_identify_errors(tmp_path: Path) -> None:
    with pytest.raises(TargetNotFound):
        devices.identify(tmp_path / "missing")
    with pytest.raises(NotATarget):
        devices.identify(tmp_path)
