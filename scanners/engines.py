"""Multi-pattern engines for the raw fast path: hyperscan, google-re2, Python `re`.

All three compile every candidate pattern into ONE matcher and answer the same question: at
which (start, pattern) pairs can a value begin. Hyperscan reports every match with its leftmost
start (SOM); re2 and `re` find the leftmost match of one alternation and are restarted one byte
after each start, so that overlapping candidates of different kinds are not lost. They are tried in
that order of speed (see benchmarks.md: 259 / 115 / 40 MB/s on personnummer alone).
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.util
import logging
import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scanners.patterns import Compiled

log = logging.getLogger(__name__)

ENGINES = ("hyperscan", "re2", "re")


class Engine(Protocol):
    """A compiled set of candidate patterns."""

    name: str

    def candidates(self, data: bytes) -> list[tuple[int, int]]:
        """(start, pattern index) pairs; may repeat and need not be sorted.

        For a context-only kind (`Kind.gate`) the position is anywhere in the gate match, and
        the values lie within `fastpath._GATE_SPAN` bytes of it.
        """
        ...

    def values(self, data: bytes, windows: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """(start, pattern index) of the values of gated kinds in windows (lo, hi, index)."""
        ...


class HyperscanEngine:
    """Hyperscan block-mode database; the scan itself runs in C without the GIL."""

    name = "hyperscan"

    def __init__(self, compiled: list[Compiled]) -> None:
        import hyperscan

        som = hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_DOTALL
        pairs = [(s, i) for i, c in enumerate(compiled) for s in c.sources]
        # Gate patterns (keyword ... value) are too large with start-of-match tracking; their
        # end is enough, since RawMatcher looks for the value around it.
        self._gated = frozenset(i for i, c in enumerate(compiled) if c.kind.gate)
        flags = [hyperscan.HS_FLAG_DOTALL if i in self._gated else som for _, i in pairs]
        self._db = _database(pairs, flags)
        self._scratch = hyperscan.Scratch(self._db)
        # The values of gated kinds alone, with their starts, for the windows around gate matches:
        # much faster than Python `re` over the same windows.
        values = [(c.value_source, i) for i, c in enumerate(compiled) if i in self._gated]
        self._values_db = self._values_scratch = None
        if values:
            self._values_db = _database(values, [som] * len(values))
            self._values_scratch = hyperscan.Scratch(self._values_db)

    def candidates(self, data: bytes) -> list[tuple[int, int]]:
        """Every (start, pattern) hyperscan reports; for gate patterns (end, pattern)."""
        found: list[tuple[int, int]] = []
        add = found.append
        gated = self._gated

        def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
            add((end if ident in gated else start, ident))

        # A scratch space per scan: RawMatcher may be shared by threads.
        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch.clone())
        return found

    def values(self, data: bytes, windows: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """Every value start hyperscan reports in each window, for that window's kind.

        The windows are joined into one buffer, two or three bytes of \\x01 between them (no
        pattern's value holds one; UTF-16 keeps its byte parity), and scanned once.
        """
        if self._values_db is None or not windows:
            return []
        parts: list[bytes] = []
        origins: list[int] = []  # offset in `joined` of each window's start
        kinds: list[int] = []
        size = 0
        for lo, hi, kind in windows:
            gap = b"\x01\x01" if (size + 2 - lo) % 2 == 0 else b"\x01\x01\x01"
            parts += (gap, data[lo:hi])
            origins.append(size + len(gap))
            kinds.append(kind)
            size += len(gap) + min(hi, len(data)) - lo
        found: list[tuple[int, int]] = []
        add = found.append
        starts = [lo for lo, _, _ in windows]

        def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
            w = bisect.bisect_right(origins, start) - 1
            if w >= 0 and kinds[w] == ident:
                add((starts[w] + start - origins[w], ident))

        scratch = self._values_scratch.clone()  # type: ignore[union-attr]
        self._values_db.scan(b"".join(parts), match_event_handler=on_match, scratch=scratch)
        return found


class _AlternationEngine:
    """One alternation of all patterns, each its own group; restarted after every start."""

    name = ""

    def __init__(self, compiled: list[Compiled], lookbehind: bool) -> None:
        pairs = [
            (s, i)
            for i, c in enumerate(compiled)
            for s in (c.re_sources if lookbehind else c.plain_sources)
        ]
        self._kind_of_group = [i for _, i in pairs]
        self._pattern = self._compile("|".join(f"({s})" for s, _ in pairs))
        self._cores = [c.core for c in compiled]

    def _compile(self, source: str) -> re.Pattern[bytes]:
        raise NotImplementedError

    def candidates(self, data: bytes) -> list[tuple[int, int]]:
        """The leftmost match from each position on; the kind is its group number."""
        found: list[tuple[int, int]] = []
        search = self._pattern.search
        pos, end = 0, len(data)
        while pos <= end:
            m = search(data, pos)
            if m is None:
                break
            start = m.start()
            found.append((start, self._kind_of_group[m.lastindex - 1]))
            pos = start + 1
        return found

    def values(self, data: bytes, windows: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        """The core's non-overlapping matches in each window."""
        cores = self._cores
        return [(m.start(), i) for lo, hi, i in windows for m in cores[i].finditer(data, lo, hi)]


class Re2Engine(_AlternationEngine):
    """google-re2 over bytes as Latin-1: linear time, no look-behind needed."""

    name = "re2"

    def __init__(self, compiled: list[Compiled]) -> None:
        super().__init__(compiled, lookbehind=False)

    def _compile(self, source: str) -> re.Pattern[bytes]:
        import re2

        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.dot_nl = True
        options.max_mem = 256 << 20
        return re2.compile(source.encode("latin-1"), options)


class ReEngine(_AlternationEngine):
    """Python `re` with look-behinds, so that a digit run costs one step per byte."""

    name = "re"

    def __init__(self, compiled: list[Compiled]) -> None:
        super().__init__(compiled, lookbehind=True)

    def _compile(self, source: str) -> re.Pattern[bytes]:
        return re.compile(source.encode("latin-1"), re.DOTALL)


# Compiled hyperscan databases of this process by pattern set, serialized: compiling the full set
# takes about 0.25 s, loading it 1 ms. Worker processes get the parent's (`export`, `preload`).
_DATABASES: dict[str, bytes] = {}


def _database(patterns: list[tuple[str, int]], flags: list[int]) -> Any:
    """A block-mode database of (pattern, id) pairs, from this process's cache when it has it."""
    import hyperscan

    key = hashlib.sha256(repr((hyperscan.__version__, patterns, flags)).encode()).hexdigest()
    blob = _DATABASES.get(key)
    if blob is not None:
        try:
            return hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        except hyperscan.error:  # built for another platform: compile afresh
            log.debug("cached hyperscan database unusable", exc_info=True)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[s.encode("latin-1") for s, _ in patterns],
        ids=[i for _, i in patterns],
        elements=len(patterns),
        flags=flags,
    )
    _DATABASES[key] = hyperscan.dumpb(db)
    return db


def export() -> dict[str, bytes]:
    """This process's compiled databases, for `preload` in a worker process."""
    return dict(_DATABASES)


def preload(databases: dict[str, bytes]) -> None:
    """Take compiled databases from `export` in another process, so matchers need not compile."""
    _DATABASES.update(databases)


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
