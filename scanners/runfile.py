"""A file's content read straight from the target along its runs, by any process.

The file pass's thread reads a file through dissect's streams (file over volume over target), so
a worker process cannot be handed the file, only its bytes. A file stored as plain runs (no
compression, no encryption, not kept inside metadata) is fully described by where its runs lie:
`RunFile` reads the same bytes from those places, so a worker can read the file itself instead
of receiving it through a pipe. Holes (sparse runs) read as zeros, as in dissect; unreadable
sectors as zeros, as the target reads them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from scanners.target import Span, Target

Run = tuple[int | None, int]  # (byte offset on the volume or None for a hole, length in bytes)


def plain_runs(runs: Sequence[Run], size: int, volume_size: int) -> tuple[Run, ...] | None:
    """The runs that hold a file's `size` bytes, or None where one lies outside its volume.

    dissect reads a corrupt run that leaves the volume short; such files stay with it.
    """
    kept: list[Run] = []
    left = size
    for start, length in runs:
        if left <= 0:
            break
        used = min(left, length)
        if start is not None and (start < 0 or start + used > volume_size):
            return None
        kept.append((start, used))
        left -= used
    return tuple(kept) if left <= 0 else None


class RunFile(io.RawIOBase):
    """The content of a file whose runs are `runs` on the volume at `base` of `target`."""

    def __init__(
        self,
        target: Target,
        base: int,
        runs: Sequence[Run],
        bad: list[Span] | None = None,
        on_read: Callable[[int, int], None] | None = None,
    ) -> None:
        """A reader of the file's bytes; `bad` and `on_read` note what it reads.

        `bad` collects the unreadable ranges read (as zeros), as `Target.pread` notes them;
        `on_read` is told each (target offset, length) read (`TargetStream.mark_read`).
        """
        super().__init__()
        self._target = target
        self._bad = bad
        self._on_read = on_read
        self.ranges_read: list[tuple[int, int]] = []  # (target offset, length) of each read
        self._base = base
        self._runs: list[tuple[int, int | None, int]] = []  # (file offset, volume offset, length)
        at = 0
        for start, length in runs:
            self._runs.append((at, start, length))
            at += length
        self._size = at
        self._pos = 0

    def readable(self) -> bool:  # noqa: D102
        return True

    def seekable(self) -> bool:  # noqa: D102
        return True

    def tell(self) -> int:  # noqa: D102
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:  # noqa: D102
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes from here (all that is left by default); b"" at the end."""
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        pieces = []
        for at, start, length in self._runs:
            if at + length <= self._pos:
                continue
            if at >= end:
                break
            lo, hi = max(self._pos, at), min(end, at + length)
            if start is None:
                pieces.append(bytes(hi - lo))
            else:
                where = self._base + start + lo - at
                pieces.append(self._target.pread(where, hi - lo, self._bad))
                self.ranges_read.append((where, len(pieces[-1])))
                if self._on_read is not None:
                    self._on_read(where, len(pieces[-1]))
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # noqa: D102
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
