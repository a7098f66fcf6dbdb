"""Files' heads judged in the scan's worker processes while the map walks on.

With both passes the map reads the head of every file to tell the files the raw pass reads as
they are from those the file pass decodes (`extents.raw_readable`). On the 1.02 GB mixed image
that made the full scan's map 0.6 s longer than raw-only's, one core working while the
workers, started by then, waited for the map. A file in plain runs needs nothing of dissect
to be judged: its path, size and runs go in batches to the workers (`extents.judge_heads`,
reading along the runs), and the map places each file when its batch is back. Until the
workers are up (or where the scan has none) a batch is judged in the map's own thread, as
before; the answers are the same function's either way.

At most `IN_FLIGHT` batches wait: memory stays a few hundred kilobytes whatever the drive.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.pool import SharedPool
    from scanners.runfile import Run
    from scanners.walklog import PlainFile

log = logging.getLogger(__name__)

BATCH = 256  # files a batch
IN_FLIGHT = 8  # batches with the workers, at most

# A batch's files as (path, size, volume offset, plain runs); a judge gives one answer a file:
# True, False or None (its head unreadable). The workers' judge opens the target by its path.
Job = tuple[str, int, int, "tuple[Run, ...]"]
Judge = Callable[[list[Job]], list["bool | None"]]


@dataclass(slots=True)
class Deferred:
    """A file in plain runs whose ranges the map adds once its head is judged."""

    base: int  # the volume's offset on the target
    limit: int  # the volume's size
    path: str  # as walked, with the volume's prefix
    shown: str  # redacted
    size: int
    runs: list[Run]  # the walker's runs (slack included)
    plain: tuple[Run, ...]  # `runfile.plain_runs`: what the head is read along
    decodes: bool  # the file pass would decode it (within its size limit)
    logged: PlainFile | None = None  # its entry in the walk's log, told the answer


class HeadQueue:
    """Deferred files, judged by batches in the workers (or here) and placed in turn."""

    def __init__(
        self,
        judge: Judge,
        place: Callable[[Deferred, bool | None], None],
        pool: SharedPool | None = None,
        *,
        here: Judge,
    ) -> None:
        """`judge` runs in a worker (sent there: a picklable function), `here` in this thread."""
        self._judge = judge
        self._here = here
        self._place = place
        self._pool = pool
        self._batch: list[Deferred] = []
        self._waiting: deque[tuple[Future[list[bool | None]], list[Deferred]]] = deque()
        self.sent = 0  # batches the workers judged
        self.here = 0  # and this thread

    def add(self, file: Deferred) -> None:
        """A file to judge; its batch goes once full."""
        self._batch.append(file)
        if len(self._batch) >= BATCH:
            self._send()

    def drain(self) -> None:
        """Judge and place every file added (call before the map is frozen)."""
        if self._batch:
            self._send()
        while self._waiting:
            self._collect()

    def _send(self) -> None:
        batch, self._batch = self._batch, []
        jobs = _jobs(batch)
        executor = self._pool.executor() if self._pool and self._pool.started() else None
        if executor is not None:
            try:
                future = executor.submit(self._judge, jobs)
            except Exception as e:  # a broken pool: the passes find out and say so
                log.debug("judging heads in the workers failed: %s", type(e).__name__)
            else:
                self._waiting.append((future, batch))
                self.sent += 1
                while len(self._waiting) > IN_FLIGHT:
                    self._collect()
                return
        self._settle(batch, self._here(jobs))
        self.here += 1

    def _collect(self) -> None:
        future, batch = self._waiting.popleft()
        try:
            answers = future.result()
        except Exception as e:  # the worker died: the batch is judged here
            log.debug("judging heads in the workers failed: %s", type(e).__name__)
            answers = self._here(_jobs(batch))
            self.here += 1
        self._settle(batch, answers)

    def _settle(self, batch: list[Deferred], answers: list[bool | None]) -> None:
        for file, readable in zip(batch, answers, strict=True):
            self._place(file, readable)


def _jobs(batch: list[Deferred]) -> list[Job]:
    return [(d.path, d.size, d.base, d.plain) for d in batch]
