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
- `count`: when the raw pass ran with the file systems' extent map (`scanners.extents`), no byte
  is matched twice. A raw finding inside a live plain file is attributed to that file; one inside
  a file the file pass decodes (compressed, encoded, a document) gives way to the file pass's
  reading; the file pass matches only what the raw pass could not see. The two counts are then
  disjoint and add up (`PassResult.complements`). Without the map (a pass alone, or the raw pass
  called directly) the larger of the two counts is taken, never less than `distinct`.
- `locations` are listed per pass: findings in a file under its path, other raw findings under
  the offset of the aligned region (`region_size` bytes) they start in, or the offset of the
  compressed stream that held them. Each says its `allocation` (live file, deleted or
  unallocated, file slack, file-system metadata) and whether the file is an operating-system or
  program file (`system`). Regions grow (by doubling) when a drive has too many to list.
- `system_files` counts, per category, the findings located in operating-system and program
  files (Windows\\, Program Files\\, /usr, /lib, ...), which are then not user data.
"""

from __future__ import annotations

import bisect
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scanners import hot, records
from scanners.arrays import np
from scanners.digests import DigestSet
from scanners.findings import CATEGORIES
from scanners.places import LIVE, UNMAPPED, Place
from scanners.target import Span

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scanners.findings import Finding

MAX_OFFSET_LOCATIONS = 10_000
COUNTING_THREADS = 2  # categories whose distinct values are counted at once (`combine`)
_T = TypeVar("_T")
_CATEGORY, _OFFSET, _DIGEST = itemgetter(0), itemgetter(1), itemgetter(4)  # Finding's fields
_NOWHERE = Place(UNMAPPED)  # where findings of a raw pass without a map are
_CATEGORY_COUNT = len(CATEGORIES)

# Top-level folders of operating-system and program files (compared without case).
SYSTEM_DIRS = frozenset(
    (
        "windows", "program files", "program files (x86)", "programdata", "$recycle.bin",
        "usr", "lib", "lib32", "lib64", "bin", "sbin", "boot", "opt", "snap", "system",
        "library", "applications", "private",
    )
)  # fmt: skip


def is_system_path(path: str) -> bool:
    """True for a file under an operating-system or program folder (`partition 1:/usr/...`)."""
    inner = path[path.find("/") :] if "/" in path else path
    top = inner.lstrip("/").split("/", 1)[0].split("!", 1)[0].lower()
    return top in SYSTEM_DIRS


class Locator(Protocol):
    """Maps a target offset to what holds it (`scanners.extents.ExtentMap`)."""

    def locate(self, offset: int) -> Place:
        """The place holding the byte at `offset`."""
        ...

    def locate_span(self, offset: int) -> tuple[Place, int, int]:
        """`locate(offset)`, and the range [lo, hi) around it that the same place holds."""
        ...

    def file_ranges(self, offset: int) -> tuple[tuple[tuple[int, int], ...], int] | None:
        """The fragmented file's device ranges (file order) and which one holds `offset`.

        None when no fragmented file holds it.
        """
        ...


def _per_category(categories: np.ndarray) -> dict[str, int]:
    """{category: how many} of an array of category indexes."""
    per = np.bincount(categories, minlength=_CATEGORY_COUNT)
    return {CATEGORIES[i]: int(per[i]) for i in np.flatnonzero(per)}


def _by_category(categories: list[str], values: list[_T]) -> dict[str, list[_T]]:
    """The values of each category's findings, in their order: one pass over a run.

    In C where built (`scanners._hot.group`); a list comprehension a category read the whole
    run once for each.
    """
    if hot.compiled is not None:
        return hot.compiled.group(categories, values)  # type: ignore[no-any-return]
    grouped: dict[str, list[_T]] = {}
    for category, value in zip(categories, values, strict=True):
        grouped.setdefault(category, []).append(value)
    return grouped


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
    """What one pass found: counts, keyed hashes and locations per category.

    With a `locator` (the raw pass over mapped file systems), a finding's offset says where it
    lies: in a live file it is counted under the file's path; in a file the file pass decodes it
    is not counted (`given_way`), since the file pass counts that file's content.
    """

    region_size: int = 1 << 20
    counts: Counter[str] = field(default_factory=Counter)
    digests: dict[str, DigestSet] = field(default_factory=dict)
    # (category, path, allocation) and (category, region offset, allocation) -> count
    by_file: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    by_offset: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    given_way: Counter[str] = field(default_factory=Counter)
    locator: Locator | None = field(default=None, repr=False, compare=False)

    def add(self, finding: Finding, *, file: str | None = None, offset: int | None = None) -> None:
        """Count one finding, located in `file` or at the target `offset` (default: its own)."""
        if file is None:
            self.add_all([finding], offset=offset)
        else:
            self.add_file([finding], file)

    def add_file(self, findings: Iterable[Finding], file: str) -> None:
        """Count findings of the file pass in `file`, a live file: as `add_all` counts a run.

        A decoded mail log gives thousands of values a chunk; counting them one by one cost
        more than finding them.
        """
        found = findings if isinstance(findings, list) else list(findings)
        if not found:
            return
        kept: dict[str, list[str]] = {}
        categories, digests = list(map(_CATEGORY, found)), list(map(_DIGEST, found))
        self._count_run(Place(LIVE, file), categories, [], digests, kept)
        for category, batch in kept.items():
            self._digest_set(category).add_all(batch)

    def add_all(self, findings: list[Finding], *, offset: int | None = None) -> None:
        """Count findings located at `offset` or (default) each at its own offset.

        The raw pass counts a page's values, or a compressed stream's, here; `add` of a finding
        not in a file comes here too. A dense page holds tens of thousands of values, mostly in
        few places: the findings are cut into runs that one place holds (one locator lookup a
        run; they come sorted by offset) and each run is counted with C-speed `Counter`s.
        Counting finding by finding cost 0.7 us each, as much as finding them.
        """
        if not findings:
            return
        # Columns through itemgetter: `zip(*findings)` makes an iterator per finding, tracked by
        # the cyclic collector, and tens of thousands of them set off its full passes.
        if offset is not None:
            offsets = [offset] * len(findings)
        else:
            offsets = list(map(_OFFSET, findings))
            if offsets != sorted(offsets):  # sorting a sorted list is one C pass
                findings = sorted(findings, key=_OFFSET)
                offsets = list(map(_OFFSET, findings))
        categories = list(map(_CATEGORY, findings))
        digests = list(map(_DIGEST, findings))
        kept: dict[str, list[str]] = {}
        at, end = 0, len(offsets)
        while at < end:
            if self.locator is None:
                place, upto = _NOWHERE, end
            else:
                place, _, hi = self.locator.locate_span(offsets[at])
                upto = bisect.bisect_left(offsets, hi, at + 1, end)
            self._count_run(place, categories[at:upto], offsets[at:upto], digests[at:upto], kept)
            at = upto
        for category, batch in kept.items():
            self._digest_set(category).add_all(batch)
        while len(self.by_offset) > MAX_OFFSET_LOCATIONS:
            self._coarsen()

    def add_file_records(self, found: np.ndarray, file: str) -> None:
        """`add_file` of records (`scanners.records`): values of the file pass in `file`."""
        if not len(found):
            return
        per_category = _per_category(found["category"])
        self.counts.update(per_category)
        for category, n in per_category.items():
            self.by_file[(category, file, LIVE)] += n
        self._keep_heads(found["category"], found["head"])

    def _keep_heads(self, categories: np.ndarray, heads: np.ndarray) -> None:
        """Each value's digest head into its category's `DigestSet`."""
        for index in np.flatnonzero(np.bincount(categories, minlength=_CATEGORY_COUNT)):
            self._digest_set(CATEGORIES[index]).add_heads(heads[categories == index].tobytes())

    def add_records(self, found: np.ndarray, *, offset: int | None = None) -> None:
        """`add_all` of records (`scanners.records`), in offset order, counted with numpy.

        The runs one place holds are found as in `add_all` (one locator lookup a run); then
        every count of the batch is a handful of array operations, not work a value.
        """
        if not len(found):
            return
        if offset is None:
            found = records.by_offset(found)
        where = found["offset"] if offset is None else np.full(len(found), offset, np.int64)
        bounds, places = [0], []
        at, end = 0, len(found)
        while at < end:
            if self.locator is None:
                place, upto = _NOWHERE, end
            else:
                place, _, hi = self.locator.locate_span(int(where[at]))
                upto = max(at + 1, int(np.searchsorted(where, hi, "left")))
            places.append(place)
            bounds.append(upto)
            at = upto
        lengths = np.diff(bounds)
        run_of = np.repeat(np.arange(len(places)), lengths)
        categories = found["category"].astype(np.int64)
        decoded = np.repeat([p.decoded for p in places], lengths)
        self.given_way.update(_per_category(categories[decoded]))
        counted = ~decoded
        self.counts.update(_per_category(categories[counted]))
        in_file = np.repeat([p.path is not None and not p.decoded for p in places], lengths)
        if in_file.any():
            # (run, category) keys are few and small: counted by bincount, not sorted (unique)
            keys = run_of[in_file] * _CATEGORY_COUNT + categories[in_file]
            counts = np.bincount(keys)
            for key in np.flatnonzero(counts):
                n = counts[key]
                place = places[int(key) // _CATEGORY_COUNT]
                category = CATEGORIES[int(key) % _CATEGORY_COUNT]
                self.by_file[(category, place.path, place.allocation)] += int(n)  # type: ignore[index]
        elsewhere = counted & ~in_file
        if elsewhere.any():
            size = self.region_size
            regions = where[elsewhere] // size
            keys = run_of[elsewhere] * _CATEGORY_COUNT + categories[elsewhere]
            # (region, key) as one integer: np.unique of rows (axis=0) sorts them as records,
            # 45 ms a call for a page of 40,000 values outside files, this 1 ms.
            span = len(places) * _CATEGORY_COUNT
            combined = regions * span + keys
            for pair, n in zip(*np.unique(combined, return_counts=True), strict=True):
                region, key = divmod(int(pair), span)
                place = places[key // _CATEGORY_COUNT]
                category = CATEGORIES[key % _CATEGORY_COUNT]
                self.by_offset[(category, region * size, place.allocation)] += int(n)
        self._keep_heads(categories[counted], found["head"][counted])
        while len(self.by_offset) > MAX_OFFSET_LOCATIONS:
            self._coarsen()

    def _count_run(
        self,
        place: Place,
        categories: list[str],
        offsets: list[int],
        digests: list[str],
        kept: dict[str, list[str]],
    ) -> None:
        """Count findings that one place holds; their digests join `kept` by category."""
        per_category = Counter(categories)
        if place.decoded:
            self.given_way.update(per_category)
            return
        self.counts.update(per_category)
        if place.path is not None:
            for category, n in per_category.items():
                self.by_file[(category, place.path, place.allocation)] += n
        alone = len(per_category) == 1
        if place.path is None:
            size = self.region_size
            regions = [where - where % size for where in offsets]
            # Counted by region alone per category: a (category, region) key a finding would
            # keep tens of thousands of new tuples alive, and the cyclic collector's full
            # passes over the whole heap would follow.
            by_region = {categories[0]: regions} if alone else _by_category(categories, regions)
            for category, of_category in by_region.items():
                for region, n in Counter(of_category).items():
                    self.by_offset[(category, region, place.allocation)] += n
        by_digest = {categories[0]: digests} if alone else _by_category(categories, digests)
        for category, of_category in by_digest.items():
            kept.setdefault(category, []).extend(of_category)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its locator: the map stays with the raw pass.

        A worker's page tally goes back to a parent that has the map, and pickling the map
        with every page cost more than matching the page.
        """
        state = self.__dict__.copy()
        state["locator"] = None
        return state

    def _digest_set(self, category: str) -> DigestSet:
        kept = self.digests.get(category)
        if kept is None:
            kept = self.digests[category] = DigestSet()
        return kept

    def merge(self, other: Tally) -> None:
        """Add another tally of the same pass (e.g. from a worker thread)."""
        self.counts.update(other.counts)
        self.given_way.update(other.given_way)
        for category, digests in other.digests.items():
            self._digest_set(category).update(digests)
        self.by_file.update(other.by_file)
        while other.region_size > self.region_size:
            self._coarsen()
        for (category, where, allocation), n in other.by_offset.items():
            self.by_offset[(category, where - where % self.region_size, allocation)] += n
        while len(self.by_offset) > MAX_OFFSET_LOCATIONS:
            self._coarsen()

    def _coarsen(self) -> None:
        self.region_size *= 2
        merged: Counter[tuple[str, int, str]] = Counter()
        for (category, where, allocation), n in self.by_offset.items():
            merged[(category, where - where % self.region_size, allocation)] += n
        self.by_offset = merged

    def by_allocation(self) -> Counter[tuple[str, str]]:
        """(category, allocation) -> count."""
        out: Counter[tuple[str, str]] = Counter()
        for (category, _, allocation), n in self.by_file.items():
            out[(category, allocation)] += n
        for (category, _, allocation), n in self.by_offset.items():
            out[(category, allocation)] += n
        return out

    def system_counts(self) -> Counter[str]:
        """Findings per category in operating-system and program files."""
        out: Counter[str] = Counter()
        for (category, path, _), n in self.by_file.items():
            if is_system_path(path):
                out[category] += n
        return out

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
    # files: this pass matched only what the raw pass could not see (the raw pass was mapped),
    # so its counts add to the raw pass's instead of overlapping them.
    complements: bool = False
    stopped: bool = False  # the pass failed part-way and reports the whole target unread


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
    by_allocation: dict[str, dict[str, int]] = field(default_factory=dict)
    system_files: dict[str, int] = field(default_factory=dict)
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
            "by_allocation": {a: dict(c) for a, c in self.by_allocation.items()},
            "system_files": dict(self.system_files),
            "not_scannable": [u.to_dict() for u in self.not_scannable],
        }


def _distinct_counts(results: list[PassResult]) -> dict[str, int]:
    """Each category's distinct values over all passes, the categories counted side by side.

    Counting sorts every kept digest again (a bucket at a time, in C without the GIL): 0.15 s
    at the end of a scan of the 1.02 GB mixed image, with one core working and the other idle.
    Each category's sets are read by one thread only.
    """
    sets = {
        category: [r.tally.digests[category] for r in results if category in r.tally.digests]
        for category in CATEGORIES
    }
    with ThreadPoolExecutor(COUNTING_THREADS, thread_name_prefix="distinct") as threads:
        counts = threads.map(DigestSet.union, sets.values())
        return dict(zip(sets, counts, strict=True))


def combine(target: str, size_bytes: int, results: list[PassResult]) -> ScanReport:
    """Merge pass results into one report (see the module docstring for the counting rule)."""
    findings: dict[str, CategoryCount] = {}
    disjoint = any(r.complements for r in results)
    distincts = _distinct_counts(results)
    for category in CATEGORIES:
        distinct = distincts[category]
        counts = [r.tally.counts[category] for r in results]
        # Every distinct value occurs at least once, so the count is never below `distinct`.
        count = max(distinct, sum(counts) if disjoint else max(counts, default=0))
        findings[category] = CategoryCount(count, distinct)
    locations: list[dict[str, Any]] = []
    allocations: dict[str, Counter[str]] = {}
    system: Counter[str] = Counter()
    for r in results:
        # Sorted on the whole key: the same scan gives the same report, byte for byte.
        for (category, path, allocation), n in sorted(
            r.tally.by_file.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        ):
            loc = {"category": category, "file": path, "allocation": allocation, "count": n}
            if is_system_path(path):
                loc["system"] = True
            locations.append(loc)
        for (category, where, allocation), n in sorted(
            r.tally.by_offset.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        ):
            locations.append(
                {"category": category, "offset": where, "allocation": allocation, "count": n}
            )
        for (category, allocation), n in r.tally.by_allocation().items():
            allocations.setdefault(allocation, Counter())[category] += n
        system.update(r.tally.system_counts())
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
        by_allocation={a: dict(c) for a, c in sorted(allocations.items())},
        system_files=dict(system),
        pass_results=tuple(results),
    )


class TallyMerger:
    """Merges tallies into one in a thread of its own, so the thread that hands them on goes on.

    The file pass's thread feeds the workers and merges what they send back; merging (folding
    millions of keyed digests into sorted sets, numpy work that releases the GIL) was two
    fifths of its time, and while it merged the workers ran out of jobs. A bounded queue keeps
    memory in check: `add` waits while `MAX_WAITING` tallies are not yet merged.
    """

    MAX_WAITING = 64

    def __init__(self, tally: Tally | None = None, *, waiting: int = MAX_WAITING) -> None:
        """Merge into `tally` (a new one by default); `add` waits while `waiting` are queued."""
        import queue
        import threading

        self.tally = tally if tally is not None else Tally()
        self._queue: queue.Queue[Tally | None] = queue.Queue(waiting)
        self._error: BaseException | None = None
        # Started by the first tally: a pass without workers never has one to merge.
        self._thread = threading.Thread(target=self._run, name="tally-merger", daemon=True)

    def add(self, tally: Tally) -> None:
        """Merge `tally` (later, in the merging thread)."""
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()
        self._queue.put(tally)

    def _run(self) -> None:
        while (tally := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.tally.merge(tally)
                except BaseException as e:  # raised again in `close`
                    self._error = e

    def close(self) -> Tally:
        """Wait for every tally added; the merged tally (the merging's error, raised here)."""
        self.stop()
        if self._error is not None:
            raise self._error
        return self.tally

    def stop(self) -> None:
        """End the merging thread once the tallies added are merged (again: nothing to do)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    @property
    def running(self) -> bool:
        """Whether the merging thread runs (it starts with the first tally)."""
        return self._thread.is_alive()
