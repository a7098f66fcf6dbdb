"""The scan report: counts, distinct counts and locations of findings, never their values.

Each pass (raw, files) fills a `Tally`; `combine` merges the passes into one `ScanReport` whose
`to_dict()` is the stable JSON form:

    {"target", "size_bytes", "bytes_scanned", "duration_s", "passes",
     "findings": {CATEGORY: {"count", "distinct"}},
     "locations": [{"category", "file" | "offset", "count"}],
     "not_scannable": [{"region", "reason"}]}

How the passes combine, per category:
- `distinct` is the size of the union of both passes' keyed hashes. Both passes hash with the same
  per-batch key, so a value seen by both is one value: this is exact.
- `count` is the larger of the two passes' counts (and never less than `distinct`). The raw
  pass counts every copy of a value on the medium (deleted files, slack, journal copies, plain
  text inside live files); the file pass counts occurrences inside live files, including text
  only it can see (names found by Presidio, text inside documents whose compression or encoding
  the raw pass cannot read). A live plain-text
  file is seen by both, so the sum would count it twice; each pass alone is a lower bound on the
  occurrences on the drive, and the larger one is the tightest bound that never double counts.
  Mapping every file finding back to a disk offset would allow an exact union, but extracted text
  (docx, PDF) has no disk offset, so the rule is the same for every category.
- `locations` are listed per pass: file findings under their path, raw findings under the offset of
  the aligned region (`region_size` bytes) they start in, or the offset of the compressed stream
  that held them. Regions grow (by doubling) when a drive has too many of them to list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scanners.findings import CATEGORIES
from scanners.target import Span

if TYPE_CHECKING:
    from scanners.findings import Finding

MAX_OFFSET_LOCATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Unscannable:
    """A region the scan could not look into, and why (never reported as clean)."""

    region: str  # "bytes 0-4095", "partition 2 (bytes 1048576-...)", "/home/a/x.docx"
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"region": self.region, "reason": self.reason}


@dataclass
class Tally:
    """What one pass found: counts, keyed hashes and locations per category."""

    region_size: int = 1 << 20
    counts: Counter[str] = field(default_factory=Counter)
    digests: dict[str, set[str]] = field(default_factory=dict)
    by_file: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_offset: Counter[tuple[str, int]] = field(default_factory=Counter)

    def add(self, finding: Finding, *, file: str | None = None, offset: int | None = None) -> None:
        """Count one finding, located in `file` or at the target `offset` (default: its own)."""
        category = finding.category
        self.counts[category] += 1
        self.digests.setdefault(category, set()).add(finding.digest)
        if file is not None:
            self.by_file[(category, file)] += 1
            return
        where = finding.offset if offset is None else offset
        self.by_offset[(category, where - where % self.region_size)] += 1
        if len(self.by_offset) > MAX_OFFSET_LOCATIONS:
            self._coarsen()

    def merge(self, other: Tally) -> None:
        """Add another tally of the same pass (e.g. from a worker thread)."""
        self.counts.update(other.counts)
        for category, digests in other.digests.items():
            self.digests.setdefault(category, set()).update(digests)
        self.by_file.update(other.by_file)
        while other.region_size > self.region_size:
            self._coarsen()
        for (category, where), n in other.by_offset.items():
            self.by_offset[(category, where - where % self.region_size)] += n
        while len(self.by_offset) > MAX_OFFSET_LOCATIONS:
            self._coarsen()

    def _coarsen(self) -> None:
        self.region_size *= 2
        merged: Counter[tuple[str, int]] = Counter()
        for (category, where), n in self.by_offset.items():
            merged[(category, where - where % self.region_size)] += n
        self.by_offset = merged

    @property
    def total(self) -> int:
        """All findings of this pass."""
        return sum(self.counts.values())


@dataclass
class PassResult:
    """One pass over a target: what it read, what it found, what it could not read."""

    name: str  # "raw" | "files"
    bytes_scanned: int = 0
    seconds: float = 0.0
    tally: Tally = field(default_factory=Tally)
    not_scannable: list[Unscannable] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    pattern_ranges: list[Span] = field(default_factory=list)  # raw: pages equal to the wipe pattern


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """Findings of one category: occurrences and distinct values."""

    count: int
    distinct: int


@dataclass(frozen=True)
class ScanReport:
    """The combined result of a scan; `to_dict()` is the stable JSON contract."""

    target: str
    size_bytes: int
    bytes_scanned: int
    duration_s: float
    passes: tuple[str, ...]
    findings: dict[str, CategoryCount]
    locations: tuple[dict[str, Any], ...]
    not_scannable: tuple[Unscannable, ...]
    pass_results: tuple[PassResult, ...] = field(default=(), repr=False, compare=False)

    @property
    def total_findings(self) -> int:
        """Occurrences over all categories."""
        return sum(c.count for c in self.findings.values())

    @property
    def clean(self) -> bool:
        """Nothing found and nothing left unread: the only state a post-wipe scan may pass."""
        return self.total_findings == 0 and not self.not_scannable

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see the module docstring)."""
        return {
            "target": self.target,
            "size_bytes": self.size_bytes,
            "bytes_scanned": self.bytes_scanned,
            "duration_s": round(self.duration_s, 3),
            "passes": list(self.passes),
            "findings": {
                c: {"count": v.count, "distinct": v.distinct} for c, v in self.findings.items()
            },
            "locations": [dict(loc) for loc in self.locations],
            "not_scannable": [u.to_dict() for u in self.not_scannable],
        }


def combine(target: str, size_bytes: int, results: list[PassResult]) -> ScanReport:
    """Merge pass results into one report (per-category max of counts, union of hashes)."""
    findings: dict[str, CategoryCount] = {}
    for category in CATEGORIES:
        distinct: set[str] = set()
        for r in results:
            distinct |= r.tally.digests.get(category, set())
        # Every distinct value occurs at least once, so the count is never below `distinct`.
        count = max([len(distinct)] + [r.tally.counts[category] for r in results])
        findings[category] = CategoryCount(count, len(distinct))
    locations: list[dict[str, Any]] = []
    for r in results:
        for (category, path), n in sorted(r.tally.by_file.items(), key=lambda kv: kv[0][1]):
            locations.append({"category": category, "file": path, "count": n})
        for (category, where), n in sorted(r.tally.by_offset.items(), key=lambda kv: kv[0][1]):
            locations.append({"category": category, "offset": where, "count": n})
    seen: set[Unscannable] = set()
    unscannable = []
    for r in results:
        for u in r.not_scannable:
            if u not in seen:
                seen.add(u)
                unscannable.append(u)
    return ScanReport(
        target=target,
        size_bytes=size_bytes,
        bytes_scanned=max((r.bytes_scanned for r in results), default=0),
        duration_s=sum(r.seconds for r in results),
        passes=tuple(r.name for r in results),
        findings=findings,
        locations=tuple(locations),
        not_scannable=tuple(unscannable),
        pass_results=tuple(results),
    )
