"""Writes and reads that fail once and succeed on the retry are recorded, not forgotten.

The kernel here has no fault injection for loop devices (no dm-flakey, no make-it-fail), so
the first attempt at chosen offsets of a real loop device is made to fail with EIO by a Target
whose `write`/`read_into` raise once per offset; every other byte goes to the real device.
(The QEMU lab's blkdebug fails writes every time, which the lab's fault tests cover.)
"""

from __future__ import annotations

import errno
import os

from wipe_helpers import MiB, expected_bytes, read_all

from wipe import Pattern, open_target, overwrite, verify
from wipe.target import Target

CHUNK = 1 * MiB


class FlakyOnce(Target):
    """Fails the first write or read at each offset in `flaky_offsets` with EIO."""

    flaky_offsets: set[int]
    failed: set[tuple[str, int]]

    def write(self, data: memoryview, offset: int) -> int:
        if offset in self.flaky_offsets and ("write", offset) not in self.failed:
            self.failed.add(("write", offset))
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return super().write(data, offset)

    def read_into(self, buf: memoryview, offset: int) -> int:
        if offset in self.flaky_offsets and ("read", offset) not in self.failed:
            self.failed.add(("read", offset))
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return super().read_into(buf, offset)


def _flaky(target: Target, offsets: set[int]) -> Target:
    target.__class__ = FlakyOnce
    target.flaky_offsets, target.failed = offsets, set()
    return target


def test_retried_writes_and_reads_are_recorded_with_ranges(make_loop) -> None:
    dev = make_loop(32 * MiB)
    flaky = {3 * CHUNK, 17 * CHUNK}  # one chunk in sixteen fails once, on writes and reads
    pattern = Pattern.random()
    with open_target(dev) as target:
        _flaky(target, flaky)
        written = overwrite(target, pattern, chunk_size=CHUNK)
        # Verification reads in its own 8 MiB chunks: make its chunk starts flaky too.
        target.flaky_offsets = {8 * MiB, 24 * MiB}
        checked = verify(target, pattern, method="full")
    assert written.outcome == "passed"
    assert written.io_errors == ()
    assert [(r.offset, r.length, r.errno) for r in written.retried] == [
        (3 * CHUNK, CHUNK, errno.EIO),
        (17 * CHUNK, CHUNK, errno.EIO),
    ]
    assert written.to_dict()["retried"][0]["error"] == "EIO"
    assert checked.passed
    assert [(r.offset, r.length) for r in checked.retried] == [
        (8 * MiB, 8 * MiB),
        (24 * MiB, 8 * MiB),
    ]
    assert checked.to_dict()["retried"][1]["offset"] == 24 * MiB
    assert read_all(dev) == expected_bytes(pattern, 32 * MiB)  # the retries did write it all


def test_a_clean_run_records_no_retries(make_loop) -> None:
    dev = make_loop(8 * MiB)
    result = overwrite(dev, Pattern.named("zeros"))
    assert result.retried == ()
    assert verify(dev, Pattern.named("zeros"), method="full").retried == ()
