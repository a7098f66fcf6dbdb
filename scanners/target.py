"""Read-only access to a scan target (a block device or an image file), tolerant of bad sectors.

A scan must finish on a failing drive: a read that fails with EIO is retried in small steps, the
unreadable steps are filled with zeros and returned as byte ranges, and the caller records them as
"not scannable". Only a device that disappears (ENODEV, ENXIO) or cannot be opened stops a scan.

A block device is also opened with O_DIRECT, and aligned reads (the raw pass's pages) go through
it: the scan then reads the medium, not the page cache. Filling the cache cost more CPU than the
scan itself, which four drives scanned at once on two cores could not afford: 1.0 s of system
time per GiB against 0.03 direct (dd, buffered and with iflag=direct, on a direct-I/O loop device
after a wipe; a one-off measurement, not a benchmark).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from scanners.errors import UnreadableTarget

log = logging.getLogger(__name__)

# Errors that mean "these sectors cannot be read" rather than "the device is gone".
_MEDIA_ERRNOS = frozenset({errno.EIO, errno.EILSEQ, errno.ENODATA, errno.EBADMSG})
_GONE_ERRNOS = frozenset({errno.ENODEV, errno.ENXIO})
_BLKSSZGET = 0x1268  # logical sector size of a block device (linux/fs.h)
# Alignment of direct reads (address, offset, length): covers 512-byte and 4Kn devices.
DIRECT_ALIGN = 4096


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open byte range [start, end) of the target."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """Bytes in the range."""
        return self.end - self.start

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end - 1}"


class Target:
    """A target opened read-only: size, positional reads and bad-sector bookkeeping.

    Args:
        path: block device or image file; opened O_RDONLY, so devices the write guard refuses
            can still be scanned.
        step: bytes per retry read inside a range that failed (a multiple of the sector size).
    """

    def __init__(self, path: str | os.PathLike[str], *, step: int = 4096) -> None:
        self.path = str(path)
        self.step = step
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise UnreadableTarget(self.path, e.strerror or str(e)) from e
        mode = os.fstat(self.fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
            os.close(self.fd)
            raise UnreadableTarget(self.path, "not a block device or an image file")
        self.kind = "block" if stat.S_ISBLK(mode) else "image"
        self.size = os.lseek(self.fd, 0, os.SEEK_END)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        # The device's logical sector size (4096 on a 4Kn drive); an image has none of its own.
        self.sector_size: int | None = None
        self.direct_fd = -1
        self._direct_refused = False
        if self.kind == "block":
            self.sector_size = _logical_sector_size(self.fd)
            try:
                self.direct_fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECT)
            except OSError:
                log.debug("%s: no O_DIRECT, reading through the page cache", self.path)

    @property
    def name(self) -> str:
        """The file name of the target, for messages."""
        return Path(self.path).name

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.direct_fd >= 0:
            os.close(self.direct_fd)
            self.direct_fd = -1

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_into(self, buf: memoryview, offset: int) -> tuple[int, list[Span]]:
        """Fill `buf` from `offset` (short only at the end of the target).

        Returns:
            The number of bytes placed in `buf`, and the unreadable ranges inside them (those
            bytes are zeros in `buf`).

        Raises:
            UnreadableTarget: the device disappeared (ENODEV/ENXIO).
        """
        want = min(len(buf), max(0, self.size - offset))
        direct = want // DIRECT_ALIGN * DIRECT_ALIGN if self._can_read_direct(buf, offset) else 0
        if direct:
            # The aligned part from the medium; an unaligned tail (the device's last sectors)
            # through the page cache.
            try:
                done = self._read_fully(buf, offset, direct, self.direct_fd)
                if done == direct and want > direct:
                    done += self._read_fully(buf[direct:], offset + direct, want - direct)
            except OSError as e:
                if e.errno == errno.EINVAL:  # the device refuses this alignment after all
                    self._direct_refused = True  # closed in `close`: other threads may read
                elif e.errno not in _MEDIA_ERRNOS:
                    raise self._translate(e, offset) from e
            else:
                return done, []
        try:
            return self._read_fully(buf, offset, want), []
        except OSError as e:
            if e.errno not in _MEDIA_ERRNOS:
                raise self._translate(e, offset) from e
        log.debug("read error at %d, retrying in %d-byte steps", offset, self.step)
        return want, self._read_stepwise(buf, offset, want)

    def is_hole(self, offset: int, length: int) -> bool:
        """True when an image file has no data in [offset, offset + length) (reads as zeros).

        Sparse images (and the holes of a 10 GB sparse file) are then skipped without reading.
        """
        if self.kind != "image":
            return False
        try:
            data = os.lseek(self.fd, offset, os.SEEK_DATA)
        except OSError as e:
            return e.errno == errno.ENXIO  # no data after offset at all
        return data >= offset + length

    def pread(self, offset: int, length: int, bad: list[Span] | None = None) -> bytes:
        """Read up to `length` bytes at `offset`; unreadable steps come back as zeros.

        The unreadable ranges are appended to `bad` when it is given.
        """
        buf = bytearray(min(length, max(0, self.size - offset)))
        n, unreadable = self.read_into(memoryview(buf), offset)
        if bad is not None:
            bad.extend(unreadable)
        with memoryview(buf) as view:  # one copy: `buf[:n]` would make a second
            return bytes(view[:n])

    def _can_read_direct(self, buf: memoryview, offset: int) -> bool:
        if self.direct_fd < 0 or self._direct_refused or offset % DIRECT_ALIGN or not len(buf):
            return False
        try:
            address = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        except TypeError:  # a read-only buffer: not ours to read into directly
            return False
        return address % DIRECT_ALIGN == 0

    def _read_fully(self, buf: memoryview, offset: int, want: int, fd: int | None = None) -> int:
        fd = self.fd if fd is None else fd
        done = 0
        while done < want:
            n = os.preadv(fd, [buf[done:want]], offset + done)
            if n == 0:
                break
            done += n
        return done

    def _read_stepwise(self, buf: memoryview, offset: int, want: int) -> list[Span]:
        bad: list[Span] = []
        pos = 0
        while pos < want:
            # Steps are aligned to the device so a bad sector spoils one step, not two.
            end = min(want, (offset + pos) // self.step * self.step + self.step - offset)
            try:
                self._read_fully(buf[pos:end], offset + pos, end - pos)
            except OSError as e:
                if e.errno not in _MEDIA_ERRNOS:
                    raise self._translate(e, offset + pos) from e
                buf[pos:end] = bytes(end - pos)
                if bad and bad[-1].end == offset + pos:
                    bad[-1] = Span(bad[-1].start, offset + end)
                else:
                    bad.append(Span(offset + pos, offset + end))
            pos = end
        return bad

    def _translate(self, e: OSError, offset: int) -> UnreadableTarget:
        reason = "device disappeared" if e.errno in _GONE_ERRNOS else (e.strerror or str(e))
        return UnreadableTarget(self.path, f"{reason} at byte {offset}")


def _logical_sector_size(fd: int) -> int | None:
    try:
        raw = fcntl.ioctl(fd, _BLKSSZGET, b"\0" * 4)
    except OSError:
        return None
    return struct.unpack("@i", raw)[0] or None
