"""Raw-pass matching in worker processes, so the detectors' Python validation uses every core.

Hyperscan releases the GIL but checking each candidate (dates, Luhn, libphonenumber) is Python,
so threads top out at one core on document-dense drives. Pages stay in shared memory filled by
the parent's reader thread; a worker matches its page there, without a copy (NTFS fixups are
applied in place, as the threads do in their buffers), with its own matcher, and returns only
the tally (counts, keyed hashes, locations).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import connection, shared_memory
from typing import TYPE_CHECKING, Any

from scanners import engines
from scanners.inflate import Limits
from scanners.pages import Page
from scanners.pagescan import Matcher, PageMatcher, PageOutcome
from scanners.target import Span, Target

if TYPE_CHECKING:
    from scanners.report import Locator

log = logging.getLogger(__name__)
_STATE: dict[str, Any] = {}

# Workers fork from a server process that imported the scanners once, not spawned each to
# import them (0.45 s of a core each, of a 7 s scan of the 1.02 GB mixed image); the server
# has no thread, so nothing half-held by the parent's threads is copied. The station's watcher
# preloads more (its own list, a superset, set after this module is imported).
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["scanners.pool"])


def _wait_for_the_forkserver(grace: float = 2.0) -> None:
    """At exit, stop the forkserver this process started and wait for it (`grace` seconds).

    Its workers are its children, not this process's: unless it is waited for, their CPU time
    and peak memory count for no one (`time`, `wait4`, the benches' RUSAGE_CHILDREN). It ends
    when its last holder of our end of its pipe does (the stdlib's `_stop`, without its wait
    for ever: a worker still alive at exit would hold the pipe, waiting for us to be gone).
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver
    if not server._lock.acquire(timeout=grace):  # a daemon thread starting a worker holds it
        return
    try:
        pid, alive = server._forkserver_pid, server._forkserver_alive_fd
        if pid is None or alive is None:
            return
        server._forkserver_pid = server._forkserver_alive_fd = None
        with contextlib.suppress(OSError):
            os.close(alive)
    finally:
        server._lock.release()
    deadline = time.monotonic() + grace
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.005)


atexit.register(_wait_for_the_forkserver)


def init(
    path: str,
    factory: Callable[[], Matcher],
    margin: int,
    limits: Limits,
    databases: dict[str, bytes] | None = None,
    locator: Locator | None = None,
) -> None:
    """Process initializer: build this worker's matcher; the target opens with the first page.

    `databases` are the parent's compiled pattern databases (`engines.export`): loading them
    spares each worker the compile. The drive is opened only when a page arrives, which the
    raw pass hands out once every worker has started (`spawn_pool(wait=True)`), so no worker
    holds the drive while another is still starting without its parent watch.
    """
    matcher = prepare(factory, databases or {})
    serve(lambda: PageMatcher(Target(path), matcher, margin, limits, locator))


def serve(open_pages: Callable[[], PageMatcher]) -> None:
    """Match pages with the `PageMatcher` that `open_pages` makes at the first one."""
    let_go()
    _STATE["open"] = open_pages


def let_go() -> None:
    """Close the page buffers this worker mapped and the target it opened.

    Matching a page can leave a reference cycle that holds a view of its block: a value's
    check that caught an exception keeps the frames that matched the page in the traceback,
    and a frame of a stream's inflation holds the page. Only the collector frees such a cycle,
    and a raw pass that makes few objects may not have run it since. A block that still
    cannot close stays mapped until the process ends (a page's size) rather than failing the
    job that comes after the raw pass.
    """
    blocks = _STATE.get("shm", {})
    if blocks:
        gc.collect()
    for shm in blocks.values():
        try:
            shm.close()
        except BufferError:
            log.debug("page buffer %s still viewed at let-go", shm.name)
    pages: PageMatcher | None = _STATE.get("matcher")
    if pages is not None:
        pages.target.close()
    _STATE["shm"] = {}
    _STATE["matcher"] = None
    _STATE.pop("open", None)


def spawn_pool(
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    *,
    wait: bool = False,
) -> ProcessPoolExecutor:
    """A pool of `workers` processes forked from the forkserver (`_CONTEXT`).

    Every process is spawned here, at once. A pool spawns on demand, at a submit that finds no
    idle worker: it could spawn one while a worker that died was breaking the pool, and CPython
    3.11 then terminates the workers it knew of and waits for the new one forever; the scan (or
    the test run) never exits. Here each worker's first call waits at a barrier until all have
    started, so none is idle before the last is spawned, and no later submit spawns. With
    `wait`, returns once every worker's initializer has run (or raises, the pool shut down).
    """
    context = _CONTEXT
    everyone = context.Barrier(workers)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start,
        initargs=(everyone, initializer, initargs),
    )
    gathered = [pool.submit(_gather) for _ in range(workers)]
    if wait:
        try:
            for future in gathered:
                future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return pool


def _start(everyone: Any, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    _STATE["everyone"] = everyone
    initializer(*initargs)


def _gather() -> None:
    """A worker's first call: returns once every worker of the pool has started."""
    everyone = _STATE.pop("everyone", None)
    if everyone is not None:
        with contextlib.suppress(threading.BrokenBarrierError):
            everyone.wait(timeout=120)  # a worker that cannot start breaks the pool anyway


def prepare(factory: Callable[[], Matcher], databases: dict[str, bytes]) -> Matcher:
    """What every worker's initializer does first: its parent watch, then its matcher.

    The matcher loads the parent's compiled patterns (`engines.export`) instead of compiling.
    """
    die_with_parent()
    engines.preload(databases)
    matcher = factory()
    # Modules and compiled patterns live as long as the worker: the collector need not walk
    # them again every time the findings of a page have made new objects.
    gc.freeze()
    return matcher


def scan_shared(
    shm_name: str, n: int, start: int, length: int, lead: int, bad: tuple[Span, ...]
) -> PageOutcome:
    """Match a data page held in the shared-memory block `shm_name` (first `n` bytes)."""
    shm = _STATE["shm"].get(shm_name)
    if shm is None:
        # Spawned workers share the parent's resource tracker, which unlinks the block once,
        # when the parent does.
        shm = shared_memory.SharedMemory(name=shm_name)
        _STATE["shm"][shm_name] = shm
    # Matched in place: the parent reuses the block only after this page's result is back.
    view = shm.buf[:n]
    if _STATE["matcher"] is None:
        _STATE["matcher"] = _STATE["open"]()
    return _STATE["matcher"].scan(Page(start, length, lead, view, bad, view), "data")


def die_with_parent() -> None:
    """Kill this worker as soon as the process that started it is gone, even by SIGKILL.

    A worker left behind keeps the drive open (and busy for the guard) for as long as it
    lives. PR_SET_PDEATHSIG cannot promise this: it fires when the *thread* that started the
    worker ends, and the pool's workers are started by scanning threads that end before the
    pool does. multiprocessing's parent sentinel is a pipe whose write end only the parent
    holds, so it reads as closed exactly when the parent process has died.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel
    if connection.wait([sentinel], timeout=0):  # gone while this process was starting
        os._exit(1)

    def watch() -> None:
        connection.wait([sentinel])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
