"""Read-back verification: sample geometry, planted corruption, a planted file system."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from wipe_helpers import MiB, read_all

from wipe import OVERWRITES, Pattern, choose, overwrite, sample_ranges, sanitize, verify
from wipe.overwrite import FaultRange
from wipe.target import aligned_buffer


@pytest.mark.parametrize("size", [3 * MiB, 64 * MiB + 512, 10 * 1024**3, 4 * 1024**4 + 4096])
def test_sample_covers_edges_every_section_and_one_percent(size: int) -> None:
    spans = sample_ranges(size, seed=7, sections=64)
    covered = sum(n for _, n in spans)
    assert covered >= 0.01 * size
    assert spans[0][0] == 0
    assert spans[0][1] >= min(MiB, size)
    last_offset, last_len = spans[-1]
    assert last_offset + last_len == size
    section = size // 64 // 512 * 512
    for k in range(64):
        lo, hi = k * section, (k + 1) * section
        assert any(o < hi and o + n > lo for o, n in spans), f"section {k} not sampled"
    assert all(a[0] + a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_sample_is_repeatable_from_its_seed() -> None:
    size = 100 * 1024**3
    assert sample_ranges(size, seed=42) == sample_ranges(size, seed=42)
    assert sample_ranges(size, seed=42) != sample_ranges(size, seed=43)


def _corrupt(dev: Path, offset: int, length: int = 4096) -> None:
    buf = aligned_buffer(length)
    buf[:length] = b"\x55" * length
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    try:
        os.pwrite(fd, memoryview(buf)[:length], offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def test_sample_catches_one_corrupted_block_and_reports_its_range(make_loop) -> None:
    dev = make_loop(256 * MiB)
    pattern = Pattern.random()
    assert overwrite(dev, pattern).outcome == "passed"
    seed = 2024
    inner = [(o, n) for o, n in sample_ranges(256 * MiB, seed=seed) if MiB < o < 255 * MiB - n]
    offset, length = inner[len(inner) // 2]
    bad = offset + (length // 2) // 4096 * 4096
    _corrupt(dev, bad)
    result = verify(dev, pattern, method="sample", seed=seed)
    assert not result.passed
    assert result.mismatches == (FaultRange(bad, 4096),)
    assert result.mismatched_bytes == 4096
    assert result.seed == seed
    assert result.to_dict()["mismatches"] == [{"offset": bad, "length": 4096}]
    full = verify(dev, pattern, method="full")
    assert full.mismatches == (FaultRange(bad, 4096),)
    assert full.coverage == 1.0


def test_planted_ext4_is_gone_after_the_wipe(make_loop, tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    secret = b"PLANTED-CUSTOMER-RECORD-19121212-1212"
    (content / "customers.txt").write_bytes(secret * 2000)
    dev = make_loop(32 * MiB)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(content), str(dev)], check=True, capture_output=True
    )
    before = read_all(dev)
    assert secret in before
    assert before[1080:1082] == b"\x53\xef"  # ext4 magic present
    plan = choose("clear", "virtual", None, "overwrite-random-zero")
    assert plan.passes == OVERWRITES["overwrite-random-zero"]
    result = sanitize(str(dev), plan, verify_method="full")
    assert result.outcome == "passed", result.reason
    after = read_all(dev)
    assert after == bytes(len(after))  # every byte is the final zero pass: nothing of ext4 left
    assert secret not in after
    blkid = subprocess.run(["blkid", "-p", str(dev)], capture_output=True, text=True)
    assert blkid.returncode == 2  # no signature of any kind
    assert not blkid.stdout
