"""File-pass matching in worker processes, so decoded text is matched on every core.

The file pass's own thread walks the file systems, reads files and decodes them (inflates
archives, extracts text); matching what comes out (the fast path's rules, the name lexicon) is
most of its time and is Python, which threads cannot share. Here it goes to `workers` worker
processes, each with its own matcher, in jobs of at most one text piece (`files.TEXT_CHUNK`
characters), one file's undecoded bytes, or a whole file to count there (`scanners.filejob`).
At most `in_flight` jobs wait, so memory stays bounded, and each comes back as a small `Tally`
(counts, keyed digests, per-file counts; a whole file's with its problems) that merges in any
order: the pass counts exactly as when it matches in its own thread.

A job whose matching fails reports its file as not scannable. If a worker dies (the pool
breaks) or the workers cannot start, its jobs and every later one are matched in the calling
thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from scanners import engines
from scanners.errors import JobFailed, error_kind
from scanners.filejob import (
    FileJob,
    FileOutcome,
    HeadJob,
    count_file,
    count_head,
    in_worker,
    match_into,
)
from scanners.report import Tally
from scanners.workers import prepare, spawn_pool

if TYPE_CHECKING:
    from scanners.findings import ValueHasher
    from scanners.pagescan import Matcher
    from scanners.pool import SharedPool

log = logging.getLogger(__name__)

_STATE: dict[str, Any] = {}
# Jobs smaller than this travel together, up to this many bytes or jobs a batch. Between two
# jobs a worker waited about 1.1 ms (median; its result sent, the next one received): on the
# 1.02 GB mixed image, batching the 1,963 jobs saved about 0.4 s of an 11.9 s full scan.
BATCH_BYTES = 1 << 20
BATCH_JOBS = 64


def init(factory: Callable[[], Matcher], hasher: ValueHasher, databases: dict[str, bytes]) -> None:
    """Process initializer: this worker's matcher, from the parent's compiled patterns."""
    adopt(prepare(factory, databases), hasher)


def adopt(
    matcher: Matcher, hasher: ValueHasher, before_first: Callable[[], None] | None = None
) -> None:
    """This worker's matcher and key for `run` (a worker of both passes, `scanners.pool`).

    `before_first` runs before this worker's first job (the raw pass is over by then).
    """
    _STATE["hasher"] = hasher
    _STATE["matcher"] = matcher
    _STATE["before_first"] = before_first


def run(path: str, data: bytes, what: str | FileJob | HeadJob) -> Tally | FileOutcome:
    """A job in this worker process (`run_with` with its matcher)."""
    before_first = _STATE.pop("before_first", None)
    if before_first is not None:
        before_first()
    in_worker()
    return run_with(_STATE["matcher"], _STATE["hasher"], path, data, what)


def run_with(
    matcher: Matcher, hasher: ValueHasher, path: str, data: bytes, what: str | FileJob | HeadJob
) -> Tally | FileOutcome:
    """A job with the given matcher: in a worker, or in the calling thread.

    `what` is the text of `path` for the name lexicon (its `data` go to the fast path), a
    `FileJob`: `data` are a whole file's bytes, counted as the pass would (`scanners.filejob`),
    or a `HeadJob`: the names in a file's head, read here.
    """
    if isinstance(what, FileJob):
        return count_file(matcher, hasher, path, data, what)
    if isinstance(what, HeadJob):
        return count_head(matcher, hasher, path, what)
    tally = Tally()
    match_into(tally, matcher, hasher, path, data, what)
    return tally


Done = Tally | FileOutcome | BaseException  # what a job gives `Offload`'s on_done
Result = Tally | FileOutcome | JobFailed  # what a job in a batch gives


def run_batch(jobs: list[tuple[str, bytes, str | FileJob | HeadJob]]) -> list[Result]:
    """Several small jobs in this worker process: each one's result, or why it failed.

    A failure comes back as `JobFailed` with the error's kind (what the report says), not as
    the exception: one that does not pickle would lose the whole batch.
    """
    out: list[Result] = []
    for path, data, what in jobs:
        try:
            out.append(run(path, data, what))
        except Exception as e:
            out.append(JobFailed(error_kind(e)))
    return out


# (path, bytes for the fast path, text for the name lexicon), or (path, a file's bytes, how to
# count it) for `count_file`; then the submitter's tag, handed back to `on_done`.
Job = tuple[str, bytes, "str | FileJob | HeadJob", object]


class Offload:
    """Jobs of the file pass in worker processes; `on_done` gets each job's tally or error.

    Args:
        factory: builds a worker's matcher (picklable, e.g. `partial(RawMatcher, hasher)`).
        hasher: keys the names' digests (the batch key).
        on_done: called in the submitting thread with (path, tally, tag), (path, a whole
            file's outcome, tag) or (path, exception, tag); `tag` as given to `submit`.
        workers: worker processes.
        in_flight: jobs submitted and not yet done, at most.
        in_flight_bytes: their bytes and characters, at most (a single larger job still goes:
            an archive member's undecoded bytes can be up to the file-pass limit).
    """

    def __init__(
        self,
        factory: Callable[[], Matcher],
        hasher: ValueHasher,
        on_done: Callable[[str, Done, object], None],
        *,
        workers: int = 2,
        in_flight: int = 6,
        in_flight_bytes: int = 16 << 20,
        pool: SharedPool | None = None,
    ) -> None:
        self._factory = factory
        self._shared = pool  # the scan's workers (`scanners.pool`), used instead of spawning
        self._hasher = hasher
        self._on_done = on_done
        self._workers = max(1, workers)
        self._in_flight = max(1, in_flight)
        self._in_flight_bytes = in_flight_bytes
        self._waiting_bytes = 0
        # Futures of batches of jobs, with their jobs and bytes.
        self._pending: deque[tuple[Future[Any], list[Job], int]] = deque()
        self._batch: list[Job] = []  # small jobs gathered to travel together
        self._batch_bytes = 0
        self._local: Matcher | None = None  # set once the pool broke
        self.jobs = 0
        self.batches = 0  # sent to the workers
        self._pool: ProcessPoolExecutor | None = None
        self.jobs_here_while_starting = 0
        # The workers start in a thread of their own, and until every one runs, jobs are
        # matched here. Spawning blocks the caller while each child imports the package and
        # reads its arguments (the compiled databases): in this thread that cost the pass
        # about 1 s of both cores at each start.
        self._starting: threading.Thread | None = threading.Thread(
            target=self._start, args=(workers,), name="file-workers-start", daemon=True
        )
        self._starting.start()

    def _start(self, workers: int) -> None:
        if self._shared is not None:
            self._pool = self._shared.executor()  # None if it could not start: match here
            return
        try:
            pool = spawn_pool(
                workers, init, (self._factory, self._hasher, engines.export()), wait=True
            )
        except Exception as e:  # cannot start here (e.g. in a daemonic process)
            log.warning("file-pass worker processes did not start (%s); matching here", e)
            return
        self._pool = pool

    def _ready(self, *, wait: bool = False) -> bool:
        """Whether the workers' start is over (started or failed); with `wait`, wait for it."""
        if self._starting is not None and (wait or not self._starting.is_alive()):
            self._starting.join()
            self._starting = None
        return self._starting is None

    def submit(self, path: str, data: bytes = b"", text: str = "", tag: object = None) -> None:
        """Match `data` and `text` of `path` in a worker (or here, once the pool broke)."""
        if data or text:
            self._submit((path, data, text, tag), len(data) + len(text))

    def submit_file(
        self, path: str, data: bytes, job: FileJob, tag: object = None, size: int | None = None
    ) -> None:
        """Count the whole file `path` with bytes `data` in a worker (`scanners.filejob`).

        `size`: the file's bytes, where the worker reads them itself (`FileJob.where`).
        """
        self._submit((path, data, job, tag), len(data) if size is None else size)

    def submit_head(self, path: str, job: HeadJob, tag: object = None) -> None:
        """Count the names in the head of `path`, which the worker reads itself (`HeadJob`)."""
        self._submit((path, b"", job, tag), job.want)

    def _submit(self, job: Job, size: int) -> None:
        self.jobs += 1
        if not self._ready():
            self.jobs_here_while_starting += 1
            self._run_here(job)
            return
        self._batch.append(job)
        self._batch_bytes += size
        # Held back only while the workers have work: an idle worker gets a job at once.
        if (
            self._batch_bytes >= BATCH_BYTES
            or len(self._batch) >= BATCH_JOBS
            or len(self._pending) < self._workers
        ):
            self._flush()

    def _flush(self) -> None:
        """Send the gathered jobs to the workers as one (or match them here)."""
        batch, size = self._batch, self._batch_bytes
        if not batch:
            return
        self._batch, self._batch_bytes = [], 0
        while self._pending and (
            len(self._pending) >= self._in_flight
            or self._waiting_bytes + size > self._in_flight_bytes
        ):
            self._collect()
        future = None
        if self._pool is not None:
            try:
                future = self._pool.submit(run_batch, [job[:3] for job in batch])
            except Exception as e:  # broken, or could not start (e.g. in a daemonic process)
                self._broken(e)
        if future is None:
            for job in batch:
                self._run_here(job)
        else:
            self.batches += 1
            self._pending.append((future, batch, size))
            self._waiting_bytes += size

    def has_room(self, size: int) -> bool:
        """Whether a job of `size` bytes would go out now, without waiting for the workers.

        Batches already done are reported first. Without workers (starting, broken) a job is
        matched at once, in the calling thread: there is room.
        """
        if not self._ready() or self._pool is None:
            return True
        while self._pending and any(f.done() for f, _, _ in self._pending):
            self._collect()
        return (
            len(self._pending) < self._in_flight
            and self._waiting_bytes + self._batch_bytes + size <= self._in_flight_bytes
        )

    def finish(self) -> None:
        """Wait for every job, report them, and stop the workers."""
        self._ready(wait=True)
        self._flush()
        while self._pending:
            self._collect()
        if self._pool is not None and self._shared is None:  # the scan ends a shared pool
            self._pool.shutdown()
        self._pool = None

    def close(self) -> None:
        """Stop the workers without waiting for the jobs (the pass failed)."""
        self._ready(wait=True)
        if self._pool is not None and self._shared is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for future, _, _ in self._pending:  # a shared pool's: its jobs, not the pool
            future.cancel()
        self._pool = None
        self._pending.clear()
        self._batch, self._batch_bytes = [], 0
        self._waiting_bytes = 0

    def _collect(self) -> None:
        """Report the jobs of the first batch to finish.

        Not the oldest: waiting on a long job (a whole mail log) left the other worker idle
        once it had done the rest. Tallies merge in any order; problems keep their file's
        number.
        """
        done, _ = wait([f for f, _, _ in self._pending], return_when=FIRST_COMPLETED)
        at = next(i for i, (f, _, _) in enumerate(self._pending) if f in done)
        future, batch, size = self._pending[at]
        del self._pending[at]
        self._waiting_bytes -= size
        try:
            outcomes = future.result()
        except BrokenProcessPool as e:
            self._broken(e)
            for job in batch:
                self._run_here(job)
            return
        except Exception as e:  # the batch's own failure: its files are reported, the pass goes on
            for job in batch:
                self._on_done(job[0], e, job[3])
            return
        for job, outcome in zip(batch, outcomes, strict=True):
            self._on_done(job[0], outcome, job[3])

    def _broken(self, why: Exception) -> None:
        """The workers died or could not start: match here from now on."""
        if self._pool is not None:
            log.warning("file-pass worker processes stopped (%s); matching in this thread", why)
            if self._shared is not None:
                self._shared.broken()
            else:  # waited for, as `SharedPool.broken` does
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _run_here(self, job: Job) -> None:
        if self._local is None:
            self._local = self._factory()
        path, data, what, tag = job
        try:
            tally = run_with(self._local, self._hasher, path, data, what)
        except Exception as e:
            log.debug("matching %s failed: %s", path, error_kind(e))
            self._on_done(path, e, tag)
            return
        self._on_done(path, tally, tag)
