"""Values in file and folder names: counted as findings, and cut out of every reported path.

A folder named `Kund 410317-2450` is personal data in the directory entry itself, and its path
would otherwise reach the scan JSON, the `scan_summary` rows kept for years, and the logs. Each
path component (folder, file, archive member) goes through the fast path once; found values are
replaced by their category (`Kund [personnummer]/avtal.txt`) and counted as findings of the file
pass, located at the redacted path. A folder's name counts once however many files it holds.
"""

from __future__ import annotations

import re
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


class PathRedactor:
    """Redacts paths component by component, remembering folders already seen.

    Args:
        matcher: the fast path (`scanners.fastpath.RawMatcher`) that finds values in names.
    """

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._folders: dict[str, str] = {}  # original path up to a folder -> redacted

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
        if not name:
            return name, []
        raw = name.encode("utf-8", errors="surrogateescape")
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
