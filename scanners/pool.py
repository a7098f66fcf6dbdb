"""One pool of worker processes for both passes of a scan, started while the map is drawn.

Each pass used to spawn its own two workers: the raw pass at its first data page (its first
pages matched in threads, holding the GIL, while they imported the package), the file pass
after a second of matching in its own thread. On the 1.02 GB mixed image that was four
interpreters' start (about 0.8 s of a core each) and two stretches of the scan with one core
working. A `SharedPool` is started once, as soon as the target is known to hold a file system
(a wiped drive, the post-wipe scan, never needs it), in the background while the file systems
are mapped, and serves the raw pass's pages (`scan_page`) and the file pass's jobs
(`scanners.filework.run`) alike.

A worker learns the raw pass's context (target, margin, limits, extent map) from a shared-
memory block the pass writes once (`RawContext`), with its first page: the map does not exist
yet when the workers start.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import TYPE_CHECKING, Any

from scanners import engines, filework, workers
from scanners.pagescan import Matcher, PageMatcher, PageOutcome
from scanners.target import Span, Target

if TYPE_CHECKING:
    from types import TracebackType

    from scanners.findings import ValueHasher
    from scanners.inflate import Limits
    from scanners.report import Locator

log = logging.getLogger(__name__)

_STATE: dict[str, Any] = {}


def init(factory: Callable[[], Matcher], hasher: ValueHasher, databases: dict[str, bytes]) -> None:
    """Process initializer: one matcher for both passes' jobs, from the parent's patterns."""
    matcher = workers.prepare(factory, databases)
    _STATE["matcher"] = matcher
    _STATE["context"] = None
    filework.adopt(matcher, hasher, before_first=_raw_pass_over)


def _raw_pass_over() -> None:
    """Let go of the raw pass's pages, drive and freed heap before the file pass's first job.

    The pass's page buffers are unlinked when it ends but live on while a worker maps them
    (33 MB), and the inflated logs' heap stayed with the worker: on the 4.1 GB mixed image
    the two workers went into the file pass at 155 MB each, and the scan's peak was at its end.
    """
    workers.let_go()
    _STATE["context"] = None
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass(frozen=True, slots=True)
class RawContext:
    """What a worker needs to match the raw pass's pages (`workers.init`'s arguments)."""

    path: str
    margin: int
    limits: Limits
    locator: Locator | None


def scan_page(
    context: str, shm_name: str, n: int, start: int, length: int, lead: int, bad: tuple[Span, ...]
) -> PageOutcome:
    """`workers.scan_shared` in a shared worker; `context` names the pass's `RawContext` block."""
    if _STATE["context"] != context:
        block = shared_memory.SharedMemory(name=context)
        try:
            size = int.from_bytes(block.buf[:8], "little")
            raw: RawContext = pickle.loads(block.buf[8 : 8 + size])  # noqa: S301 - our parent's
        finally:
            block.close()
        matcher = _STATE["matcher"]
        workers.serve(
            lambda: PageMatcher(Target(raw.path), matcher, raw.margin, raw.limits, raw.locator)
        )
        _STATE["context"] = context
    return workers.scan_shared(shm_name, n, start, length, lead, bad)


def write_context(context: RawContext) -> shared_memory.SharedMemory:
    """The raw pass's context in a shared-memory block for the workers; the caller unlinks it.

    Shared memory, not a file: a scan killed with SIGKILL leaves its blocks to the resource
    tracker, which removes them (a file in /dev/shm stayed behind, one per killed scan).
    """
    data = pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL)
    block = shared_memory.SharedMemory(create=True, size=8 + len(data))
    block.buf[:8] = len(data).to_bytes(8, "little")
    block.buf[8 : 8 + len(data)] = data
    return block


class SharedPool:
    """`workers` worker processes for both passes, started in a thread at once.

    `executor()` waits for the start and gives the pool, or None if it could not start (the
    passes then match in their threads, as when they cannot start their own). The pool ends
    with the `with` block; a pass that finds it broken calls `broken()`.
    """

    def __init__(
        self, factory: Callable[[], Matcher], hasher: ValueHasher, *, workers: int = 2
    ) -> None:
        self.workers = workers
        self._pool: Executor | None = None
        self._failed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._start,
            args=(factory, hasher, engines.export()),
            name="scan-workers-start",
            daemon=True,
        )
        self._thread.start()

    def _start(
        self, factory: Callable[[], Matcher], hasher: ValueHasher, databases: dict[str, bytes]
    ) -> None:
        try:
            pool = workers.spawn_pool(self.workers, init, (factory, hasher, databases), wait=True)
        except Exception as e:
            log.warning("worker processes did not start (%s); matching in threads", e)
            with self._lock:
                self._failed = True
            return
        with self._lock:
            self._pool = pool

    def started(self) -> bool:
        """Whether the start is over (the pool runs, or could not start)."""
        return not self._thread.is_alive()

    def executor(self) -> Executor | None:
        """The running pool (waiting for its start), or None if it could not start or broke."""
        self._thread.join()
        with self._lock:
            return None if self._failed else self._pool

    def broken(self) -> None:
        """A pass found the pool broken (a worker died): no pass gets it again."""
        with self._lock:
            self._failed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            # Waited for: the pool's manager ends the other workers and joins them, and none
            # may outlive the scan with the drive open. (A shutdown without waiting forgets the
            # manager: a later shutdown has nothing to wait for.)
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SharedPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._thread.join()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
