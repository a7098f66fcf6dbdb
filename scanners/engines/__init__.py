"""Multi-pattern engines for the raw fast path: hyperscan, google-re2, Python `re`.

All three compile every candidate pattern into ONE matcher and answer the same question: at
which (start, pattern) pairs can a value begin. Hyperscan reports every match with its leftmost
start (SOM; `scanners.engines.hyperscan`); re2 and `re` find the leftmost match of one
alternation and are restarted one byte after each start, so that overlapping candidates of
different kinds are not lost (`scanners.engines.alternation`). They are tried in that order of
speed (see benchmarks.md: 259 / 115 / 40 MB/s on personnummer alone).
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING, Protocol

from scanners.engines.alternation import Re2Engine, ReEngine
from scanners.engines.hyperscan import HyperscanEngine, export, preload  # noqa: F401 - API

if TYPE_CHECKING:
    from scanners.patterns import Compiled

log = logging.getLogger(__name__)

ENGINES = ("hyperscan", "re2", "re")


class Engine(Protocol):
    """A compiled set of candidate patterns."""

    name: str

    def candidates(self, data: bytes | memoryview) -> list[tuple[int, int]]:
        """(start, pattern index) pairs; may repeat and need not be sorted.

        For a context-only kind (`Kind.gate`) the position is anywhere in the gate match, and
        the values lie within `fastpath._GATE_SPAN` bytes of it.
        """
        ...

    def values(
        self, data: bytes | memoryview, windows: list[tuple[int, int, int]]
    ) -> list[tuple[int, int]]:
        """(start, pattern index) of the values of gated kinds in windows (lo, hi, index)."""
        ...


_CLASSES = {"hyperscan": HyperscanEngine, "re2": Re2Engine, "re": ReEngine}
_MODULES = {"hyperscan": "hyperscan", "re2": "re2", "re": "re"}


def available() -> list[str]:
    """The engines whose library is installed, fastest first."""
    return [n for n in ENGINES if importlib.util.find_spec(_MODULES[n]) is not None]


def build(compiled: list[Compiled], name: str | None = None) -> Engine:
    """The named engine, or the fastest one that installs and compiles.

    Raises:
        ValueError: `name` is not one of ENGINES or its library is not installed.
    """
    if name is not None:
        if name not in _CLASSES or name not in available():
            raise ValueError(f"engine {name!r} is not available (have: {', '.join(available())})")
        return _CLASSES[name](compiled)
    for candidate in available():
        try:
            return _CLASSES[candidate](compiled)
        except Exception as e:  # noqa: BLE001 - an optional engine; the next one is tried
            log.debug("engine %s unusable", candidate, exc_info=e)
    raise AssertionError("unreachable: the re engine always compiles")
