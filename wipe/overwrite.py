"""The overwrite engine (NIST SP 800-88 Clear): one pass of a pattern over every byte.

Large aligned direct writes keep the device busy; for the keystream, a worker thread fills the
next buffers while the calling thread writes the current one (both release the GIL). fdatasync
runs every `sync_every` bytes so the progress reported is what the device holds, not what sits
in a cache. A failed write is retried, then narrowed down to small blocks so one bad sector
costs one small recorded range, not a whole buffer.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from wipe.errors import DeviceGone
from wipe.pattern import Pattern, PatternRing
from wipe.target import Target, open_target

log = logging.getLogger(__name__)

MiB = 1024 * 1024
CHUNK = 8 * MiB  # large enough to keep a drive's queue full, small enough for 4 drives at once
QUEUE = 2  # writes in flight: the device always has the next one queued
SYNC_EVERY = 1024 * MiB
RETRIES = 2
SPLIT = 64 * 1024  # block size a failed buffer is retried in, to isolate bad sectors
MAX_FAILED_CHUNKS = 32  # consecutive failed buffers before the pass gives up

Progress = Callable[[int, int], None]
_Written = tuple[int, list["FaultRange"], list["FaultRange"]]  # written, failed, retried


@dataclass(frozen=True, slots=True)
class FaultRange:
    """A byte range of the target, with the error that hit it (if any)."""

    offset: int
    length: int
    errno: int | None = None
    message: str = ""

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.offset + self.length

    def to_dict(self) -> dict[str, Any]:
        """JSON form; errno as its symbolic name too."""
        data: dict[str, Any] = {"offset": self.offset, "length": self.length}
        if self.errno is not None:
            data["errno"] = self.errno
            data["error"] = errno.errorcode.get(self.errno, str(self.errno))
        if self.message:
            data["message"] = self.message
        return data


@dataclass(frozen=True, slots=True)
class OverwriteResult:
    """What one overwrite pass did."""

    device: str
    pattern: str  # zeros | ones | random
    key_id: str  # fingerprint of the keystream key ("" for constants)
    size_bytes: int
    bytes_written: int
    seconds: float
    io_errors: tuple[FaultRange, ...] = ()
    aborted: bool = False
    # Writes that failed at first and succeeded on a retry: written in the end, but a sign of
    # a weak drive that the certificate's assurance record must show (ranges and count).
    retried: tuple[FaultRange, ...] = ()

    @property
    def outcome(self) -> str:
        """`passed`, `failed` (a range was not written) or `aborted` (cancelled)."""
        if self.aborted:
            return "aborted"
        return "failed" if self.io_errors else "passed"

    @property
    def mb_per_s(self) -> float:
        """Decimal megabytes per second over the pass."""
        return self.bytes_written / self.seconds / 1e6 if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The step as it appears in the wipe result JSON."""
        return {
            "step": "overwrite",
            "pattern": self.pattern,
            "key_id": self.key_id,
            "size_bytes": self.size_bytes,
            "bytes_written": self.bytes_written,
            "seconds": round(self.seconds, 3),
            "mb_per_s": round(self.mb_per_s, 1),
            "errors": [r.to_dict() for r in self.io_errors],
            "retried": [r.to_dict() for r in self.retried],
            "outcome": self.outcome,
        }


def overwrite(
    target: Target | str | os.PathLike[str],
    pattern: Pattern,
    *,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
    chunk_size: int = CHUNK,
    sync_every: int = SYNC_EVERY,
    retries: int = RETRIES,
) -> OverwriteResult:
    """Overwrite every addressable byte of `target` with `pattern`.

    Args:
        target: an open `Target`, or a path that is opened (and guarded) for this pass.
        pattern: what to write.
        on_progress: called with (bytes done, total) after each buffer.
        cancel: when set, the pass stops after the current buffer and reports `aborted`.
        chunk_size: bytes per write (rounded to the sector size).
        sync_every: bytes between fdatasync calls.
        retries: extra attempts for a failed write before it is narrowed down and recorded.

    Raises:
        GuardRefusal: a path was given and the guard refused it.
        DeviceGone: the device disappeared mid-write (`bytes_done` says how far it got).
    """
    if not isinstance(target, Target):
        with open_target(target) as opened:
            return overwrite(
                opened,
                pattern,
                on_progress=on_progress,
                cancel=cancel,
                chunk_size=chunk_size,
                sync_every=sync_every,
                retries=retries,
            )
    return _Pass(target, pattern, chunk_size, sync_every, retries, on_progress, cancel).run()


class _Pass:
    """State of one running pass; `run()` is the loop."""

    def __init__(
        self,
        target: Target,
        pattern: Pattern,
        chunk_size: int,
        sync_every: int,
        retries: int,
        on_progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        self.target, self.pattern, self.retries = target, pattern, retries
        sector = target.sector_size
        self.chunk = max(sector, chunk_size - chunk_size % sector)
        self.sync_every = sync_every
        self.on_progress, self.cancel = on_progress, cancel
        self.errors: list[FaultRange] = []
        self.retried: list[FaultRange] = []
        self.written = 0
        self.failed_in_a_row = 0
        self.gave_up = False
        self.since_sync = 0

    def run(self) -> OverwriteResult:
        start = time.monotonic()
        aborted = False
        try:
            aborted = self._loop()
            self._sync(self.target.size)
        except DeviceGone as e:
            e.bytes_done = self.written
            raise
        return OverwriteResult(
            device=self.target.path,
            pattern=self.pattern.name,
            key_id=self.pattern.key_id,
            size_bytes=self.target.size,
            bytes_written=self.written,
            seconds=time.monotonic() - start,
            io_errors=tuple(_merge(self.errors)),
            aborted=aborted,
            retried=tuple(_merge(self.retried)),
        )

    def _loop(self) -> bool:
        """Write every chunk, QUEUE writes in flight; True when cancelled."""
        ring = PatternRing(self.pattern.filler(self.chunk), self.target.size, self.chunk, QUEUE + 2)
        inflight: deque[tuple[int, int, int, Future[_Written]]] = deque()
        cancelled = False
        try:
            with ThreadPoolExecutor(max_workers=QUEUE, thread_name_prefix="writer") as writers:
                while not self.gave_up:
                    if self.cancel is not None and self.cancel.is_set():
                        cancelled = True
                        break
                    item = ring.get()
                    if item is None:
                        break
                    offset, view, idx = item
                    future = writers.submit(self._write, view, offset)
                    inflight.append((offset, len(view), idx, future))
                    if len(inflight) >= QUEUE:
                        self._complete(*inflight.popleft(), ring)
                while inflight:
                    self._complete(*inflight.popleft(), ring)
        finally:
            ring.close()  # stops the keystream worker before the target is closed
        if self.gave_up:
            end = ring.next_offset
            self.errors.append(
                FaultRange(end, self.target.size - end, None, "not attempted after write errors")
            )
        return cancelled

    def _complete(
        self,
        offset: int,
        length: int,
        idx: int,
        future: Future[_Written],
        ring: PatternRing,
    ) -> None:
        """Account for a finished write (in device order) and hand its buffer back."""
        written, errors, retried = future.result()
        ring.release(idx)
        self.written += written
        self.errors.extend(errors)
        self.retried.extend(retried)
        self.failed_in_a_row = self.failed_in_a_row + 1 if errors else 0
        self.gave_up = self.gave_up or self.failed_in_a_row >= MAX_FAILED_CHUNKS
        self.since_sync += length
        if self.since_sync >= self.sync_every:
            self._sync(offset + length)
            self.since_sync = 0
        if self.on_progress is not None:
            self.on_progress(offset + length, self.target.size)

    def _write(self, view: memoryview, offset: int) -> _Written:
        """Write one buffer (in a writer thread); bytes written, failed and retried ranges."""
        retried: list[FaultRange] = []
        error = self._attempt(view, offset, self.retries, retried)
        if error is None:
            return len(view), [], retried
        step = max(self.target.sector_size, SPLIT)
        if len(view) <= step:
            return 0, [_failed(offset, len(view), error)], retried
        # Narrow down: retry in small blocks so healthy sectors around a bad one get written.
        written, failed = 0, []
        for sub in range(0, len(view), step):
            part = view[sub : sub + step]
            sub_error = self._attempt(part, offset + sub, self.retries, retried)
            if sub_error is None:
                written += len(part)
            else:
                failed.append(_failed(offset + sub, len(part), sub_error))
        return written, failed, retried

    def _attempt(
        self, view: memoryview, offset: int, retries: int, retried: list[FaultRange]
    ) -> OSError | None:
        """Write `view` at `offset`, retrying; a write that succeeds late goes to `retried`."""
        last: OSError | None = None
        for attempt in range(retries + 1):
            try:
                self._write_fully(view, offset)
            except OSError as e:
                self.target.check_error(e)
                log.debug("write at %d failed (attempt %d): %s", offset, attempt + 1, e)
                last = e
            else:
                if last is not None:
                    retried.append(_failed(offset, len(view), last))
                return None
        return last

    def _write_fully(self, view: memoryview, offset: int) -> None:
        done = 0
        while done < len(view):
            n = self.target.write(view[done:], offset + done)
            if n <= 0:
                raise OSError(errno.ENOSPC, "device accepted no bytes")
            done += n

    def _sync(self, upto: int) -> None:
        try:
            self.target.sync()
        except OSError as e:
            self.target.check_error(e)
            # The device lost data it had acknowledged; nothing since the start can be trusted.
            self.errors.append(FaultRange(0, upto, e.errno, f"flush failed: {e.strerror}"))


def _failed(offset: int, length: int, error: OSError) -> FaultRange:
    return FaultRange(offset, length, error.errno, error.strerror or str(error))


def _merge(ranges: list[FaultRange]) -> list[FaultRange]:
    """Join touching ranges that failed with the same error."""
    merged: list[FaultRange] = []
    for r in sorted(ranges, key=lambda r: r.offset):
        last = merged[-1] if merged else None
        if last and last.end >= r.offset and (last.errno, last.message) == (r.errno, r.message):
            merged[-1] = FaultRange(
                last.offset, max(last.end, r.end) - last.offset, last.errno, last.message
            )
        else:
            merged.append(r)
    return merged
