"""A write target opened exclusively, with direct I/O, only after the guard cleared it.

O_EXCL on a block device makes the open fail while anything else (a mount, another wipe, LVM)
holds the device, and keeps everyone else out for as long as we hold it. Image files get an
exclusive `flock` for the same promise. O_DIRECT keeps the page cache out of both the writes
(so fdatasync means the device has the data) and the verification reads (so the cache cannot
answer for the device).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from wipe.blockdev import BlockFacts, inspect
from wipe.errors import DeviceGone, TargetBusy, TargetNotFound
from wipe.guard import check_writable

log = logging.getLogger(__name__)

_BLKGETSIZE64 = 0x80081272
# Errors that mean the device itself went away, not that one write failed.
GONE_ERRNOS = frozenset({errno.ENODEV, errno.ENXIO, errno.ENOMEDIUM, errno.ESHUTDOWN})


def aligned_buffer(size: int) -> mmap.mmap:
    """A page-aligned anonymous buffer, as O_DIRECT needs (mmap memory is page-aligned)."""
    return mmap.mmap(-1, max(size, mmap.PAGESIZE))


@dataclass
class Target:
    """An exclusively opened block device or image file; close it (or use `with`)."""

    path: str
    facts: BlockFacts
    fd: int
    direct: bool  # O_DIRECT in effect (tmpfs-backed image files cannot have it)
    _tail_fd: int | None = field(default=None, repr=False)
    _lock_fd: int | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Bytes the target had when it was opened."""
        return self.facts.size_bytes

    @property
    def sector_size(self) -> int:
        """Logical sector size: the unit every direct read or write is a multiple of."""
        return max(self.facts.logical_sector_size, 512)

    @property
    def direct_end(self) -> int:
        """End of the part reachable with direct I/O (an image's odd tail is written buffered)."""
        return self.size - self.size % self.sector_size

    @property
    def kind(self) -> str:
        """`block` or `image`."""
        return self.facts.kind

    def write(self, data: memoryview, offset: int) -> int:
        """Write `data` at `offset`; an odd tail past `direct_end` goes through the page cache."""
        if offset + len(data) <= self.direct_end or not self.direct:
            return os.pwrite(self.fd, data, offset)
        return os.pwrite(self._tail(), data, offset)

    def read_into(self, buf: memoryview, offset: int) -> int:
        """Read into `buf` from `offset` (direct, so the page cache cannot answer)."""
        if offset + len(buf) <= self.direct_end or not self.direct:
            return os.preadv(self.fd, [buf], offset)
        tail = self._tail()
        os.posix_fadvise(tail, offset, len(buf), os.POSIX_FADV_DONTNEED)
        return os.preadv(tail, [buf], offset)

    def sync(self) -> None:
        """Make what was written durable (device cache flush included)."""
        os.fdatasync(self.fd)
        if self._tail_fd is not None:
            os.fdatasync(self._tail_fd)

    def current_size(self) -> int | None:
        """The size the kernel reports now, or None when the device cannot be asked."""
        try:
            if self.kind == "image":
                return os.fstat(self.fd).st_size
            raw = fcntl.ioctl(self.fd, _BLKGETSIZE64, b"\0" * 8)
            return struct.unpack("Q", raw)[0]
        except OSError:
            return None

    def gone_reason(self, error: OSError) -> str | None:
        """Why `error` means the device is gone (vanished node, lost media), else None."""
        if error.errno in GONE_ERRNOS:
            return os.strerror(error.errno or 0)
        if self.kind == "block" and not Path(self.path).exists():
            return "the device node no longer exists"
        now = self.current_size()
        if now is not None and now != self.size:
            return f"its size changed from {self.size} to {now} bytes (media removed?)"
        return None

    def check_error(self, error: OSError) -> None:
        """Raise DeviceGone when `error` says the whole device went away."""
        reason = self.gone_reason(error)
        if reason is not None:
            raise DeviceGone(self.path, reason) from error

    def close(self) -> None:
        """Release the exclusive hold."""
        for fd in (self._tail_fd, self._lock_fd, self.fd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError as e:  # a vanished device may refuse even this
                    log.debug("close of %s failed: %s", self.path, e)
        self.fd, self._tail_fd, self._lock_fd = -1, None, None

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tail(self) -> int:
        if self._tail_fd is None:
            # Buffered, for the last partial sector; read-only when the target is (verification).
            writable = fcntl.fcntl(self.fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
            mode = os.O_RDWR if writable else os.O_RDONLY
            self._tail_fd = os.open(self.path, mode | os.O_CLOEXEC)
        return self._tail_fd


def open_target(path: str | os.PathLike[str], *, write: bool = True) -> Target:
    """Open `path` exclusively with direct I/O, after `check_writable` cleared it.

    Args:
        path: block device node or disk image file.
        write: open for writing (the guard runs); False opens read-only for verification,
            still exclusively.

    Raises:
        GuardRefusal: the guard refused the target (only when `write`).
        TargetBusy: someone else holds it open.
        TargetNotFound: it vanished between the guard and the open.
    """
    text = os.fspath(path)
    facts = check_writable(text) if write else inspect(text)
    mode = os.O_RDWR if write else os.O_RDONLY
    flags = mode | os.O_CLOEXEC | (os.O_EXCL if facts.kind == "block" else 0)
    try:
        fd, direct = _open_direct(text, flags)
    except FileNotFoundError as e:
        raise TargetNotFound(text) from e
    except OSError as e:
        if e.errno == errno.EBUSY:
            raise TargetBusy(text) from e
        raise
    target = Target(path=text, facts=facts, fd=fd, direct=direct)
    if facts.kind == "image":
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            target.close()
            raise TargetBusy(text) from e
    return target


def _open_direct(path: str, flags: int) -> tuple[int, bool]:
    try:
        return os.open(path, flags | os.O_DIRECT), True
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
    # tmpfs and a few other file systems refuse O_DIRECT; an image there is RAM anyway.
    log.debug("O_DIRECT refused for %s, using buffered I/O", path)
    return os.open(path, flags), False
