"""The alternation engines: google-re2 and Python `re`, one alternation of every pattern.

They find the leftmost match of one alternation and are restarted one byte after each start, so
that overlapping candidates of different kinds are not lost.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.patterns import Compiled


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
