"""Exclusive, direct opening of targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from wipe_helpers import MiB

from wipe import TargetBusy, open_target
from wipe.target import aligned_buffer


def test_block_device_is_exclusive_and_direct(make_loop) -> None:
    dev = make_loop(4 * MiB)
    with open_target(dev) as target:
        assert target.direct
        assert target.kind == "block"
        assert target.size == 4 * MiB
        with pytest.raises(TargetBusy, match="in use by another process"):
            open_target(dev)
    open_target(dev).close()  # released again


def test_image_file_is_locked_against_a_second_wipe(tmp_path: Path) -> None:
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(MiB))
    with open_target(image) as target:
        assert target.kind == "image"
        with pytest.raises(TargetBusy):
            open_target(image)


def test_read_only_open_for_verification_needs_no_write_access(make_loop) -> None:
    dev = make_loop(4 * MiB, read_only=True)
    with open_target(dev, write=False) as target:
        buf = aligned_buffer(4096)  # O_DIRECT wants aligned memory
        assert target.read_into(memoryview(buf)[:4096], 0) == 4096
        assert target.facts.read_only
