"""Values in file and folder names: counted as findings, and cut out of every reported path.

A folder named `Kund 410317-2450` is personal data in the directory entry itself, and its path
would otherwise reach the scan JSON, the `scan_summary` rows kept for years, and the logs. Each
path component (folder, file, archive member) goes through the fast path once; found values are
replaced by their category (`Kund [personnummer]/avtal.txt`) and counted as findings of the file
pass, located at the redacted path. A folder's name counts once however many files it holds.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.findings import Finding
    from scanners.pagescan import Matcher

_SPLIT = re.compile(r"([/!])")  # folders, and members of archives (`a.zip!b/c.txt`)
# Every value the fast path finds holds an ASCII digit, an '@' (e-mail) or a ':' (IPv6); a
# name without any cannot hold one. Matching a name cost about 60 us whatever its length
# (each pattern set's scan has its own set-up): 0.5 s of mapping the 1.02 GB mixed image,
# most of whose 6,200 names hold none of them.
_MAY_HOLD_VALUE = re.compile(rb"[0-9@:]")
MAX_FOLDERS = 200_000  # folder names remembered; beyond it a name is scanned again (and counted)
# Between names matched together (`PathRedactor.prefilter`): newlines, which end every value
# and hold no keyword, for longer than any match (1 KiB), gate margin or context window.
_GAP = b"\n" * 4096


class PathRedactor:
    """Redacts paths component by component, remembering folders already seen.

    Args:
        matcher: the fast path (`scanners.fastpath.RawMatcher`) that finds values in names.
    """

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._folders: dict[str, str] = {}  # original path up to a folder -> redacted
        self._clean: set[str] = set()  # names of the last `prefilter` without a candidate

    def prefilter(self, paths: Iterable[str]) -> None:
        """Find out at once which names of `paths` hold no candidate value (see `_GAP`).

        Each name was matched alone, 17 us of set-up a name whatever its length: 0.11 s of
        mapping the 1.02 GB mixed image (3,700 of its 5,400 files' names hold a digit). Here the
        names that may hold a value are matched together, `_GAP` apart, up to the candidate
        starts only; a name with no start in or near it has no value (a value is only ever
        confirmed at a start, and a name alone has a start only where the names together have
        one: the gap reads as the buffer's edge does), and `redact` takes it as it is. Any
        other name is matched alone, as before. Forgets the names of the call before.
        """
        self._clean = set()  # set again only once every name is matched
        starts_of = getattr(self.matcher, "_start_keys", None)
        if starts_of is None:
            return
        names = sorted({n for path in paths for n in _SPLIT.split(path)[::2] if n})
        names = [n for n in names if _MAY_HOLD_VALUE.search(_encoded(n)) is not None]
        if not names:
            return
        offsets, pieces, at = [], [], 0
        for name in names:
            raw = _encoded(name)
            offsets.append(at)
            pieces += [raw, _GAP]
            at += len(raw) + len(_GAP)
        starts = starts_of(b"".join(pieces))
        positions = (
            [int(k) >> 8 for k in memoryview(starts).cast("Q")]
            if isinstance(starts, bytes)
            else [s for s, _ in starts]
        )
        near = set()
        for position in positions:  # the name it falls in, or the one before its gap, and after
            i = bisect.bisect_right(offsets, position) - 1
            near.update((i, i + 1))
        self._clean = {name for i, name in enumerate(names) if i not in near}

    def redact(self, path: str) -> tuple[str, list[tuple[Finding, str]]]:
        """The path with values cut out, and findings of names not seen before.

        Returns:
            The redacted path, and (finding, redacted path of the component holding it) pairs
            for each value in a component met for the first time.
        """
        parts = _SPLIT.split(path)
        found: list[tuple[Finding, str]] = []
        out = ""
        for i in range(0, len(parts), 2):
            original = "".join(parts[: i + 1])
            last = i + 1 >= len(parts)
            cached = None if last else self._folders.get(original)
            if cached is not None:
                out = cached
            else:
                name, findings = self._component(parts[i])
                out += name
                found.extend((f, out) for f in findings)
                if not last and len(self._folders) < MAX_FOLDERS:
                    self._folders[original] = out
            if not last:
                out += parts[i + 1]
        return out, found

    def redact_only(self, path: str) -> str:
        """The path with values cut out, counting nothing (the file pass counts names)."""
        return self.redact(path)[0]

    def _component(self, name: str) -> tuple[str, list[Finding]]:
        if not name or name in self._clean:
            return name, []
        raw = _encoded(name)
        if _MAY_HOLD_VALUE.search(raw) is None:
            return name, []
        findings = [f for f in self.matcher.scan(raw, 0) if f.length > 0]
        if not findings:
            return name, []
        out = bytearray()
        pos = 0
        for f in sorted(findings, key=lambda f: f.offset):
            if f.offset < pos:  # overlaps one already cut out: cut out their union
                pos = max(pos, f.offset + f.length)
                continue
            out += raw[pos : f.offset] + f"[{f.category}]".encode()
            pos = f.offset + f.length
        out += raw[pos:]
        return out.decode("utf-8", errors="replace"), findings


def _encoded(name: str) -> bytes:
    return name.encode("utf-8", errors="surrogateescape")
