"""The raw pass: every byte of the target through the detectors' fast path, at drive speed.

Pages are read ahead by a thread and matched by `workers` threads (hyperscan and os.preadv
release the GIL), or on large targets by `workers` processes (`scanners.workers`), since
validating candidates is Python and would otherwise hold one core. A page whose core is one
repeated byte (a zeroed or erased drive) or equals the expected wipe pattern is not matched,
except for its last `margin` bytes, where a match running into the next page could start.
Compressed streams found in the page are inflated and scanned (see `scanners.inflate`).
Unreadable sectors become "not scannable" ranges and the scan goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from typing import TYPE_CHECKING

from scanners import engines, workers
from scanners.inflate import Limits, cut_reason
from scanners.pages import Page, PageReader
from scanners.pagescan import Matcher, PageMatcher, PageOutcome
from scanners.pool import RawContext, scan_page, write_context
from scanners.report import PassResult, TallyMerger, Unscannable
from scanners.target import Span

if TYPE_CHECKING:
    from scanners.pool import SharedPool
    from scanners.report import Locator
    from scanners.target import Target

log = logging.getLogger(__name__)

MERGE_WAITING = 4  # page tallies queued for merging, at most

# (offset, length) -> the bytes a completed wipe left there (e.g. an AES-CTR keystream).
ExpectedPattern = Callable[[int, int], bytes | bytearray | memoryview]
Progress = Callable[[int, int], None]

# Uniform pages of these bytes cannot hold text, so only their tail is matched; a page of one
# printable byte ("1111...", spaces) is matched in full, since a match could lie inside it.
_BLANK_BYTES = frozenset(range(0x20)) | {0x7F, 0xFF}


@dataclass(frozen=True, slots=True)
class RawOptions:
    """How the raw pass reads, what it skips, and where it matches."""

    # 4 MiB: a page is held by the reader, the worker that matches it and the pool of buffers
    # (workers + readahead); at 8 MiB those buffers alone put the full scan of the 4.1 GB mixed
    # image at 500-539 MB RSS (its processes summed), at 4 MiB 430, in the same time.
    page_size: int = 4 << 20
    margin: int = 64 << 10  # context on each side of a page; longer than any match in bytes
    workers: int = 2
    readahead: int = 2  # pages read ahead of the workers
    limits: Limits = field(default_factory=Limits)
    expected: ExpectedPattern | None = None
    # With a picklable matcher factory, targets of at least `processes_from` bytes (None: never)
    # are matched in `workers` worker processes; the calling program needs the usual
    # `if __name__ == "__main__":` guard. Measured on the 2.15 GB scan_bench image on this 2-core
    # machine since workers match pages in place (no copies) and load the parent's compiled
    # patterns: processes and threads cost the same CPU (3.6-3.9 against 3.3-3.6 s per GB);
    # at load 1.9 processes ran 476-520 MB/s against 421-444 for threads, at load 2.7 281
    # against 382. On text the threads hold the GIL most of the time (each value is confirmed
    # through Python): a raw-only scan of the 1.02 GB mixed image (850 MB of mail log text
    # inflated) took 36.6 s in threads and 17.7 s in two processes (peak RSS of the process
    # tree 342 -> 563 MB), hence 256 MiB rather than 1 GiB. A station scanning several drives
    # at once should pass None (threads) and let drives share the cores.
    matcher_factory: Callable[[], Matcher] | None = None
    processes_from: int | None = 1 << 28
    # While the worker processes start (about 0.8 s, importing, with the cores half idle), the
    # scanning threads match data pages themselves; False hands every data page to a worker.
    match_while_starting: bool = True
    # The file systems' extent map (`scanners.extents.map_target`): findings are attributed to
    # files and allocations, and give way inside files the file pass decodes.
    locator: Locator | None = None
    # Worker processes the scan started for both passes (`scanners.pool`): used instead of
    # spawning the pass's own when it would use processes.
    pool: SharedPool | None = None


class RawScanner:
    """Runs the raw pass over one target; construct once per scan."""

    def __init__(self, target: Target, matcher: Matcher, options: RawOptions | None = None):
        self.target = target
        self.options = options or RawOptions()
        self.pages = PageMatcher(
            target, matcher, self.options.margin, self.options.limits, self.options.locator
        )
        self._uniform: dict[int, bytes] = {}
        self._procs: Executor | None = None
        self._start_procs: Callable[[], Executor] | None = None
        self._procs_lock = threading.Lock()
        self._starting: threading.Thread | None = None
        self._start_failed = False
        self._early_pages = 0
        self._shm_names: dict[int, str] = {}
        self._context: str | None = None  # the shared workers' context file

    @property
    def uses_processes(self) -> bool:
        """Whether data pages go to worker processes (else worker threads)."""
        opts = self.options
        return (
            opts.matcher_factory is not None
            and opts.processes_from is not None
            and opts.workers > 1
            and self.target.size >= opts.processes_from
        )

    def run(self, on_progress: Progress | None = None) -> PassResult:
        """Scan every byte of the target; returns the pass's tally and unreadable ranges."""
        opts = self.options
        result = PassResult("raw")
        stats: Counter[str] = Counter()
        bad: list[Span] = []
        over_budget: list[Span] = []
        cut: list[Span] = []
        too_deep: list[Span] = []
        nested_in_tail: list[Span] = []
        pattern: list[Span] = []
        done = 0
        began = time.monotonic()

        # Folding the pages' digests in runs beside this thread, which reads and hands out the
        # pages: while it folded, the workers ran out of pages. Few tallies wait (a page of
        # inflated mail log brings megabytes of digests).
        merger = TallyMerger(result.tally, waiting=MERGE_WAITING)

        def collect(out: PageOutcome) -> None:
            nonlocal done
            merger.add(out.tally)
            stats[f"pages_{out.kind}"] += 1
            stats["streams_inflated"] += out.streams
            stats["bytes_inflated"] += out.inflated
            stats["streams_left_to_file_pass"] += out.deferred
            stats["bytes_left_to_file_pass"] += out.left_to_files
            bad.extend(out.bad)
            if out.kind == "pattern":
                pattern.append(Span(out.start, out.start + out.length))
            page = Span(out.start, out.start + out.length)
            if out.over_budget:
                over_budget.append(page)
            if out.cut:
                cut.append(page)
            if out.too_deep:
                too_deep.append(page)
            if out.nested_in_tail:
                nested_in_tail.append(page)
            result.bytes_scanned += out.bytes_read - sum(r.length for r in out.bad)
            done += out.length
            if on_progress is not None:
                on_progress(done, self.target.size)

        try:
            for out in self._outcomes():
                collect(out)
        finally:
            merger.stop()
        merger.close()
        stats["worker_processes"] = opts.workers if self._procs is not None else 0
        if self.uses_processes:
            stats["pages_matched_while_workers_started"] = self._early_pages
        stats["findings_given_way"] = sum(result.tally.given_way.values())

        result.seconds = time.monotonic() - began
        result.stats = dict(stats)
        result.pattern_ranges = _merge(pattern)
        for r in _merge(bad):
            result.not_scannable.append(Unscannable(str(r), "read error (EIO)"))
        for r in _merge(over_budget):
            result.not_scannable.append(
                Unscannable(str(r), "compressed streams beyond the inflate budget (zip bomb?)")
            )
        limits = opts.limits
        for r in _merge(cut):
            result.not_scannable.append(
                Unscannable(
                    str(r),
                    cut_reason(limits),
                )
            )
        for r in _merge(nested_in_tail):
            result.not_scannable.append(
                Unscannable(
                    str(r),
                    f"compressed streams inside a compressed stream past its first "
                    f"{limits.max_output} bytes; not read",
                )
            )
        for r in _merge(too_deep):
            result.not_scannable.append(
                Unscannable(
                    str(r), f"compressed streams nested deeper than {limits.max_depth}; not read"
                )
            )
        return result

    def _outcomes(self) -> Iterator[PageOutcome]:
        """Outcomes of every page, in completion order, with at most `workers` in flight.

        Threads classify each page (memcmp against zeros, or the expected keystream, which
        `cryptography` computes without the GIL) and match it, or hand a data page to a worker
        process when processes are in use.
        """
        opts = self.options
        buffers = opts.workers + opts.readahead
        with ExitStack() as stack:
            if self.uses_processes:
                shms = [
                    shared_memory.SharedMemory(create=True, size=opts.page_size + 2 * opts.margin)
                    for _ in range(buffers)
                ]
                stack.callback(_free_shared, shms)
                self._shm_names = {id(shm.buf): shm.name for shm in shms}
                reader = PageReader(
                    self.target,
                    page_size=opts.page_size,
                    margin=opts.margin,
                    buffers=[shm.buf for shm in shms],
                )
                if opts.pool is not None:
                    self._context = self._write_context(stack)
                self._start_procs = lambda: stack.enter_context(
                    workers.spawn_pool(
                        opts.workers,
                        workers.init,
                        (
                            self.target.path,
                            opts.matcher_factory,
                            opts.margin,
                            opts.limits,
                            engines.export(),
                            opts.locator,
                        ),
                        # Every worker runs before any page is handed out: one still starting
                        # up (importing, seconds on a loaded machine) when the parent is killed
                        # would outlive it by that long. Workers open the drive with their
                        # first page, so none holds it before all run.
                        wait=True,
                    )
                )
            else:
                reader = PageReader(
                    self.target, page_size=opts.page_size, margin=opts.margin, buffers=buffers
                )
            threads = stack.enter_context(
                ThreadPoolExecutor(opts.workers, thread_name_prefix="scan-match")
            )
            pending: dict[Future[PageOutcome], Page] = {}
            try:
                for page in reader:
                    pending[threads.submit(self._page, page)] = page
                    while len(pending) >= opts.workers:
                        yield from self._finished(reader, pending)
                while pending:
                    yield from self._finished(reader, pending)
            finally:
                # A pool still starting joins the stack before it unwinds (and shuts it down).
                if self._starting is not None:
                    self._starting.join()

    @staticmethod
    def _finished(
        reader: PageReader, pending: dict[Future[PageOutcome], Page]
    ) -> Iterator[PageOutcome]:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in finished:
            reader.release(pending.pop(fut))
            yield fut.result()

    def _page(self, page: Page) -> PageOutcome:
        kind = self._classify(page)
        if kind != "data" or self._start_procs is None:
            return self.pages.scan(page, kind)
        pool = self._worker_pool()
        if pool is None:  # the workers are starting (or could not): this thread matches it
            with self._procs_lock:
                self._early_pages += 1
            return self.pages.scan(page, kind)
        name = self._shm_names[id(page._buf)]
        args = (name, len(page.data), page.start, page.length, page.lead, page.bad)
        if self._context is not None:
            return pool.submit(scan_page, self._context, *args).result()
        return pool.submit(workers.scan_shared, *args).result()

    def _write_context(self, stack: ExitStack) -> str:
        """The shared workers' context block (`scanners.pool.RawContext`), gone at the end."""
        opts = self.options
        block = write_context(RawContext(self.target.path, opts.margin, opts.limits, opts.locator))
        stack.callback(_free_shared, [block])
        return block.name

    def _worker_pool(self) -> Executor | None:
        """The worker processes once every one has started; None until then.

        They are started with the first data page: a wiped drive (zeros or the expected pattern
        throughout) never needs them, and starting two interpreters cost more than the whole
        post-wipe scan of a 2 GiB drive (1.3 s to 3.8 s). They start in the background while
        the scanning threads match pages (`match_while_starting`), else this waits for them.
        """
        shared = self.options.pool
        if shared is not None:  # started by the scan, perhaps not yet running
            if shared.started() or not self.options.match_while_starting:
                self._procs = shared.executor()
            return self._procs
        with self._procs_lock:
            if self._starting is None and not self._start_failed:
                self._starting = threading.Thread(
                    target=self._start_pool, name="scan-workers-start", daemon=True
                )
                self._starting.start()
            starting = self._starting
        if self._procs is None and starting is not None and not self.options.match_while_starting:
            starting.join()
        return self._procs

    def _start_pool(self) -> None:
        """Start the pool and every worker in it.

        A pool that cannot start leaves the threads to match every page: the scan is slower,
        not lost.
        """
        assert self._start_procs is not None
        try:
            pool = self._start_procs()
        except Exception as e:
            log.warning("raw-pass worker processes did not start (%s); matching in threads", e)
            with self._procs_lock:
                self._start_failed = True
            return
        with self._procs_lock:
            self._procs = pool

    def _classify(self, page: Page) -> str:
        core = page.core
        if not core:
            return "data"
        first = core[0]
        if first in _BLANK_BYTES and core[-1] == first and core[len(core) // 2] == first:
            uniform = self._uniform.get(first)
            if uniform is None:  # a core is never longer than a page
                uniform = bytes([first]) * self.options.page_size
                if len(self._uniform) < 4:
                    self._uniform[first] = uniform
            if uniform.startswith(core):
                return "uniform"
        expected = self.options.expected
        if expected is not None:
            want = expected(page.start, page.length)
            if isinstance(want, memoryview):  # bytes and bytearray compare in place
                want = bytes(want)
            if len(want) == page.length and want.startswith(core):
                return "pattern"
        return "data"


def _free_shared(shms: list[shared_memory.SharedMemory]) -> None:
    for shm in shms:
        try:
            shm.close()
        except BufferError:  # a view outlived the scan; the block goes with the process
            log.debug("shared page buffer %s still in use at close", shm.name)
        shm.unlink()


def _merge(ranges: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if merged and r.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, r.end))
        else:
            merged.append(r)
    return merged


def scan_raw(
    target: Target,
    matcher: Matcher,
    options: RawOptions | None = None,
    *,
    on_progress: Progress | None = None,
) -> PassResult:
    """Run the raw pass over `target` (see `RawScanner`)."""
    return RawScanner(target, matcher, options).run(on_progress)
