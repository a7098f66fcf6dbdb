"""The overwrite engine on real loop devices and image files."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from wipe_helpers import MiB, expected_bytes, read_all

from wipe import Pattern, open_target, overwrite, verify
from wipe.pattern import PatternFiller


@pytest.mark.parametrize("name", ["zeros", "ones", "random"])
def test_every_pattern_is_written_byte_for_byte(make_loop, name: str) -> None:
    dev = make_loop(24 * MiB)
    pattern = Pattern.named(name)
    result = overwrite(dev, pattern)
    assert result.outcome == "passed"
    assert result.bytes_written == 24 * MiB
    assert read_all(dev) == expected_bytes(pattern, 24 * MiB)
    assert verify(dev, pattern, method="full").passed


def test_device_shorter_than_one_buffer(make_loop) -> None:
    dev = make_loop(1 * MiB)
    pattern = Pattern.random()
    result = overwrite(dev, pattern, chunk_size=8 * MiB)
    assert result.bytes_written == 1 * MiB
    assert read_all(dev) == expected_bytes(pattern, 1 * MiB)


def test_odd_sized_image_file_to_the_last_byte(tmp_path: Path) -> None:
    image = tmp_path / "odd.img"
    size = 3 * MiB + 1234  # not a whole sector: the tail goes through the page cache
    image.write_bytes(b"\x5a" * size)
    pattern = Pattern.random()
    result = overwrite(image, pattern, chunk_size=1 * MiB)
    assert result.outcome == "passed"
    assert result.bytes_written == size
    assert image.stat().st_size == size
    assert read_all(image) == expected_bytes(pattern, size)
    assert verify(image, pattern, method="full").passed


def test_loop_over_odd_sized_file(make_loop, tmp_path: Path) -> None:
    image = tmp_path / "odd-backing.img"
    image.write_bytes(b"\x5a" * (5 * MiB + 700))
    dev = make_loop(image=image)
    pattern = Pattern.ones()
    result = overwrite(dev, pattern, chunk_size=2 * MiB)
    size = 5 * MiB + 512  # the kernel rounds a loop device down to whole sectors
    assert result.bytes_written == size
    assert read_all(dev) == expected_bytes(pattern, size)


def test_4096_byte_logical_sectors(make_loop) -> None:
    dev = make_loop(16 * MiB, sector_size=4096)
    pattern = Pattern.random()
    with open_target(dev) as target:
        assert target.sector_size == 4096
        assert target.direct
        result = overwrite(target, pattern, chunk_size=3 * MiB + 4096)
        assert verify(target, pattern, method="full").passed
    assert result.bytes_written == 16 * MiB
    assert read_all(dev) == expected_bytes(pattern, 16 * MiB)


def test_keystream_can_be_regenerated_at_any_offset() -> None:
    pattern = Pattern.random()
    whole = expected_bytes(pattern, 2 * MiB)
    filler = PatternFiller(pattern, MiB)
    for offset in (0, 512, 4096, 1 * MiB - 512, 1 * MiB + 16):
        assert filler.expected(offset, 4096) == whole[offset : offset + 4096]
    assert filler.expected(7, 100) == whole[7:107]  # unaligned starts too


def test_disk_full_under_a_loop_device_records_the_unwritten_range(small_tmpfs, make_loop) -> None:
    image = small_tmpfs / "big.img"
    image.touch()
    os.truncate(image, 32 * MiB)  # sparse: the 8 MiB tmpfs runs out of space while writing
    dev = make_loop(image=image)
    result = overwrite(dev, Pattern.zeros())
    assert result.outcome == "failed"
    assert result.io_errors
    assert {r.errno for r in result.io_errors} <= {errno.ENOSPC, errno.EIO}
    unwritten = sum(r.length for r in result.io_errors)
    assert result.bytes_written + unwritten == 32 * MiB
    assert result.bytes_written <= 9 * MiB  # about what the 8 MiB tmpfs could take
    assert result.to_dict()["errors"][0]["error"] in ("ENOSPC", "EIO")


def test_disk_full_for_an_image_file(small_tmpfs) -> None:
    image = small_tmpfs / "big.img"
    image.touch()
    os.truncate(image, 24 * MiB)
    result = overwrite(image, Pattern.random())
    assert result.outcome == "failed"
    assert result.io_errors[0].errno == errno.ENOSPC
    assert result.bytes_written + sum(r.length for r in result.io_errors) == 24 * MiB


def test_cancel_stops_the_pass_and_reports_aborted(make_loop) -> None:
    dev = make_loop(64 * MiB)
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 8 * MiB:
            cancel.set()

    result = overwrite(
        dev, Pattern.random(), chunk_size=4 * MiB, on_progress=progress, cancel=cancel
    )
    assert result.outcome == "aborted"
    assert 8 * MiB <= result.bytes_written < 64 * MiB


def test_progress_reaches_the_total(make_loop) -> None:
    dev = make_loop(10 * MiB)
    seen: list[tuple[int, int]] = []
    overwrite(
        dev, Pattern.zeros(), chunk_size=4 * MiB, on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(4 * MiB, 10 * MiB), (8 * MiB, 10 * MiB), (10 * MiB, 10 * MiB)]
