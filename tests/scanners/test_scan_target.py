"""Target reads: the O_DIRECT descriptor and its fallback to the page cache."""

from __future__ import annotations

import errno
import mmap
import os

from scanners import target as target_module
from scanners.target import DIRECT_ALIGN, Target


def test_a_refused_direct_read_falls_back_and_is_not_tried_again(tmp_path, monkeypatch) -> None:
    data = os.urandom(4 * DIRECT_ALIGN)
    path = tmp_path / "disk.img"
    path.write_bytes(data)
    real_preadv = os.preadv
    direct_calls = []

    with Target(path) as target:
        # An image file has no direct descriptor; stand one in that refuses the alignment, as
        # a device with a larger logical sector would.
        target.direct_fd = os.dup(target.fd)

        def preadv(fd, buffers, offset):
            if fd == target.direct_fd:
                direct_calls.append(offset)
                raise OSError(errno.EINVAL, "Invalid argument")
            return real_preadv(fd, buffers, offset)

        monkeypatch.setattr(target_module.os, "preadv", preadv)
        buf = mmap.mmap(-1, len(data))  # page-aligned, so the direct path is tried
        for _ in range(2):
            n, bad = target.read_into(memoryview(buf), 0)
            assert (n, bad) == (len(data), [])
            assert buf[:] == data
    assert direct_calls == [0]  # refused once, then the page cache only
    assert target.direct_fd == -1  # and closed with the target
