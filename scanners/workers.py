"""Raw-pass matching in worker processes, so the detectors' Python validation uses every core.

Hyperscan releases the GIL but checking each candidate (dates, Luhn, libphonenumber) is Python,
so threads top out at one core on document-dense drives. Pages stay in shared memory filled by
the parent's reader thread; a worker matches its page there, without a copy (NTFS fixups are
applied in place, as the threads do in their buffers), with its own matcher, and returns only
the tally (counts, keyed hashes, locations).
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing import shared_memory
from typing import Any

from scanners import engines
from scanners.inflate import Limits
from scanners.pages import Page
from scanners.pagescan import Matcher, PageMatcher, PageOutcome
from scanners.target import Span, Target

_STATE: dict[str, Any] = {}


def init(
    path: str,
    factory: Callable[[], Matcher],
    margin: int,
    limits: Limits,
    databases: dict[str, bytes] | None = None,
) -> None:
    """Process initializer: open the target read-only and build this worker's matcher.

    `databases` are the parent's compiled pattern databases (`engines.export`): loading them
    spares each worker the compile.
    """
    engines.preload(databases or {})
    _STATE["matcher"] = PageMatcher(Target(path), factory(), margin, limits)
    _STATE["shm"] = {}


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
    return _STATE["matcher"].scan(Page(start, length, lead, view, bad, view), "data")
