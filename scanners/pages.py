"""Sequential pages of a target with overlap margins, read ahead by a thread into reused buffers.

Each page is a core [start, start + length) plus `margin` bytes of context on both sides, so a
match that straddles two cores is whole in the page where it starts, and a matcher can look at
the bytes before a core start to decide a word boundary. The caller counts only matches that start
inside the core: every match is counted exactly once.

Reading happens in a thread (os.preadv releases the GIL) into a small pool of preallocated
buffers, so reading and matching overlap and memory stays at `(depth + workers) * page` bytes
whatever the target's size.
"""

from __future__ import annotations

import mmap
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from scanners.target import Span, Target

Buffer = bytearray | memoryview | mmap.mmap

_STOP = object()


@dataclass(slots=True)
class Page:
    """One window of the target: `data[lead:lead + length]` is the core."""

    start: int  # target offset of the core
    length: int  # core bytes
    lead: int  # context bytes before the core inside `data`
    data: memoryview  # lead + core + trailing context
    bad: tuple[Span, ...]  # unreadable ranges inside the core (zeros in `data`)
    _buf: Buffer  # the reader's buffer (an anonymous map, or shared memory)

    @property
    def core(self) -> memoryview:
        """The core bytes only."""
        return self.data[self.lead : self.lead + self.length]

    @property
    def window_start(self) -> int:
        """Target offset of `data[0]`."""
        return self.start - self.lead


class PageReader:
    """Iterate a target's pages; buffers go back to the pool through `release(page)`.

    Args:
        target: the opened target.
        page_size: core bytes per page.
        margin: context bytes on each side (must exceed the longest match in bytes).
        buffers: preallocated buffers; bounds memory and how far the reader runs ahead.
        start, end: byte range to read (default: the whole target).
    """

    def __init__(
        self,
        target: Target,
        *,
        page_size: int = 8 << 20,
        margin: int = 64 << 10,
        buffers: int | list[Buffer] = 4,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        self.target = target
        self.page_size = page_size
        self.margin = margin
        self.start = start
        self.end = target.size if end is None else min(end, target.size)
        self._free: queue.Queue[Buffer] = queue.Queue()
        for buf in range(buffers) if isinstance(buffers, int) else buffers:
            # Anonymous maps are page-aligned, so a block device's pages can be read with O_DIRECT.
            self._free.put(mmap.mmap(-1, page_size + 2 * margin) if isinstance(buf, int) else buf)
        self._zeros = memoryview(bytes(page_size + 2 * margin))  # sliced without copies
        self._ready: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Page]:
        self._thread = threading.Thread(target=self._run, name="scan-readahead", daemon=True)
        self._thread.start()
        try:
            while True:
                item = self._ready.get()
                if item is _STOP:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, Page)
                yield item
        finally:
            self._stop.set()
            self._free.put(bytearray(0))  # wake a reader waiting for a buffer
            self._thread.join()
            self._drain()

    def _drain(self) -> None:
        # Pages read ahead but never consumed still hold views of the buffers: let them go, so
        # shared memory behind them can be closed.
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, Page):
                item.data.release()

    def release(self, page: Page) -> None:
        """Give a page's buffer back so the reader can fill it again."""
        page.data.release()
        self._free.put(page._buf)

    def _run(self) -> None:
        try:
            pos = self.start
            while pos < self.end and not self._stop.is_set():
                buf = self._free.get()
                if self._stop.is_set():
                    break
                self._ready.put(self._read(buf, pos))
                pos += self.page_size
        except BaseException as e:  # handed to the consumer, which raises it
            self._ready.put(e)
            return
        self._ready.put(_STOP)

    def _read(self, buf: Buffer, pos: int) -> Page:
        length = min(self.page_size, self.end - pos)
        lo = max(0, pos - self.margin)
        hi = min(self.target.size, pos + length + self.margin)
        view = memoryview(buf)
        if length > 2 * self.margin and self.target.is_hole(pos, length - self.margin):
            # A hole reads as zeros: fill the core from memory, read only the last margin and
            # the context around it (the tail may start a match running into the next page).
            keep = pos + length - self.margin - lo
            view[:keep] = self._zeros[:keep]
            n, bad = self.target.read_into(view[keep : hi - lo], lo + keep)
            n += keep
        else:
            n, bad = self.target.read_into(view[: hi - lo], lo)
        core_end = pos + length
        clipped = tuple(
            Span(max(r.start, pos), min(r.end, core_end))
            for r in bad
            if r.end > pos and r.start < core_end
        )
        view.release()
        length = max(0, min(length, n - (pos - lo)))  # the target ended early
        return Page(pos, length, pos - lo, memoryview(buf)[:n], clipped, buf)
