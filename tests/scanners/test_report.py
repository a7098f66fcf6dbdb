"""The report's JSON contract and how the raw and file passes combine."""

from __future__ import annotations

import gc
import json
import pickle
import random
from collections import Counter

from scanners.digests import DigestSet
from scanners.findings import CATEGORIES, Finding
from scanners.places import LIVE, SLACK, UNMAPPED, ExtentMap, Place
from scanners.report import MAX_OFFSET_LOCATIONS, PassResult, Tally, Unscannable, combine


def finding(category: str, offset: int, digest: str) -> Finding:
    return Finding(category=category, offset=offset, length=11, confidence=0.9, digest=digest)


def test_json_has_exactly_the_contract_keys() -> None:
    raw = PassResult("raw", bytes_scanned=100, seconds=1.0)
    raw.tally.add(finding("personnummer", 5, "aa"))
    raw.not_scannable.append(Unscannable("bytes 0-511", "read error (EIO)"))
    files = PassResult("files", bytes_scanned=40, seconds=0.5)
    files.tally.add(finding("email", 0, "bb"), file="/a.txt")
    doc = json.loads(json.dumps(combine("/dev/x", 1000, [raw, files]).to_dict()))
    assert list(doc) == [
        "target",
        "size_bytes",
        "bytes_scanned",
        "duration_s",
        "passes",
        "findings",
        "locations",
        "by_allocation",
        "system_files",
        "not_scannable",
    ]
    assert doc["target"] == "/dev/x"
    assert doc["size_bytes"] == 1000
    assert doc["bytes_scanned"] == 100
    assert doc["duration_s"] == 1.5
    assert doc["passes"] == ["raw", "files"]
    assert list(doc["findings"]) == list(CATEGORIES)
    assert doc["findings"]["personnummer"] == {"count": 1, "distinct": 1}
    assert doc["locations"] == [
        {"category": "personnummer", "offset": 0, "allocation": "unmapped", "count": 1},
        {"category": "email", "file": "/a.txt", "allocation": "live file", "count": 1},
    ]
    assert doc["not_scannable"] == [{"region": "bytes 0-511", "reason": "read error (EIO)"}]


def test_passes_combine_by_max_count_and_union_of_digests() -> None:
    raw, files = PassResult("raw"), PassResult("files")
    for digest in ("a", "a", "b"):  # a value twice on the medium, another once
        raw.tally.add(finding("personnummer", 0, digest))
    for digest in ("a", "c"):  # the file pass sees "a" in a live file and "c" only it can read
        files.tally.add(finding("personnummer", 0, digest), file="/x")
    report = combine("t", 1, [raw, files])
    assert report.findings["personnummer"].count == 3
    assert report.findings["personnummer"].distinct == 3  # a, b, c
    files.tally.add(finding("person_name", 0, "n"), file="/x")
    assert combine("t", 1, [raw, files]).findings["person_name"].count == 1


def test_count_is_never_below_distinct() -> None:
    raw, files = PassResult("raw"), PassResult("files")
    raw.tally.add(finding("email", 0, "a"))
    files.tally.add(finding("email", 0, "b"), file="/x")
    assert combine("t", 1, [raw, files]).findings["email"].count == 2


def test_offset_locations_coarsen_instead_of_growing_without_bound() -> None:
    tally = Tally()
    for i in range(MAX_OFFSET_LOCATIONS * 3):
        tally.add(finding("email", i << 20, f"{i}"))
    assert len(tally.by_offset) <= MAX_OFFSET_LOCATIONS
    assert sum(tally.by_offset.values()) == MAX_OFFSET_LOCATIONS * 3
    assert all(offset % tally.region_size == 0 for _, offset, _ in tally.by_offset)


def test_clean_needs_no_findings_and_nothing_unread() -> None:
    raw = PassResult("raw")
    assert combine("t", 1, [raw]).clean
    raw.not_scannable.append(Unscannable("bytes 0-1", "read error (EIO)"))
    assert not combine("t", 1, [raw]).clean


def _extent_map(rng: random.Random) -> ExtentMap:
    """Ranges of live files, decoded files and slack with gaps between them."""
    places = [Place(LIVE, "/a.txt"), Place(LIVE, "/b.gz", decoded=True), Place(SLACK, "/a.txt")]
    extents, at = ExtentMap(), 0
    for _ in range(200):
        at += rng.choice([0, 1, 4096, 1 << 20])
        length = rng.choice([1, 512, 4096, 1 << 22])
        extents.add(at, at + length, rng.choice(places))
        at += length
    extents.freeze()
    return extents


def _add_one_by_one(tally: Tally, f: Finding, where: int) -> None:
    """The counting rule written out for one finding, as `Tally.add` once did it: the map's
    place by `locate`, given way in decoded files, a file's path, or the region at `where`."""
    place = tally.locator.locate(where) if tally.locator else Place(UNMAPPED)
    if place.decoded:
        tally.given_way[f.category] += 1
        return
    tally.counts[f.category] += 1
    tally.digests.setdefault(f.category, DigestSet()).add(f.digest)
    if place.path is not None:
        tally.by_file[(f.category, place.path, place.allocation)] += 1
        return
    tally.by_offset[(f.category, where - where % tally.region_size, place.allocation)] += 1
    if len(tally.by_offset) > MAX_OFFSET_LOCATIONS:
        tally._coarsen()


def test_adding_a_page_at_once_counts_as_one_by_one() -> None:
    """`Tally.add_all` (the raw pass's pages and streams) equals the rule per finding: counts,
    distinct digests, locations, findings given way, and the coarsening of regions past
    `MAX_OFFSET_LOCATIONS`; with and without an extent map, at own offsets or one offset."""
    rng = random.Random(3)
    for size in (0, 1, 50, 3000, MAX_OFFSET_LOCATIONS + 500):
        extents = _extent_map(rng) if size % 2 == 0 else None
        top = 1 << 40 if extents is None else 200 << 22
        found = sorted(
            (
                finding(
                    rng.choice(["personnummer", "email", "phone"]),
                    rng.randrange(top),
                    rng.choice([f"{rng.randrange(1 << 256):064x}", "short", "ab" * 32]),
                )
                for _ in range(size)
            ),
            key=lambda f: f.offset,
        )
        stream_at = rng.randrange(top)
        one, many = Tally(locator=extents), Tally(locator=extents)
        for f in found:
            _add_one_by_one(one, f, f.offset)
            _add_one_by_one(one, f, stream_at)
            _add_one_by_one(one, f, f.offset)  # once more, out of order below
        many.add_all(found[: size // 2])
        many.add_all(found[size // 2 :])
        many.add_all(found, offset=stream_at)
        many.add_all(rng.sample(found, len(found)))
        assert many.counts == one.counts
        assert many.by_offset == one.by_offset
        assert many.by_file == one.by_file
        assert many.given_way == one.given_way
        assert many.region_size == one.region_size
        assert many.digests == one.digests
    assert one.given_way
    assert one.by_file


def test_adding_a_page_keeps_no_object_a_finding_for_the_collector() -> None:
    """A dense page's findings are counted without tens of thousands of tracked objects alive
    at once (an iterator or a key tuple per finding): those set off the cyclic collector's
    passes over the whole heap, which cost more than the counting."""
    rng = random.Random(9)
    extents = _extent_map(rng)
    found = sorted(
        (
            finding(rng.choice(["personnummer", "email", "phone"]), at, f"{at:064x}")
            for at in rng.sample(range(200 << 22), 50_000)
        ),
        key=lambda f: f.offset,
    )
    for locator in (None, extents):
        collections: list[int] = []

        def count(phase: str, info: dict[str, int], seen: list[int] = collections) -> None:
            if phase == "start":
                seen.append(info["generation"])

        tally = Tally(locator=locator)
        gc.collect()
        gc.callbacks.append(count)
        try:
            tally.add_all(found)
        finally:
            gc.callbacks.remove(count)
        assert sum(tally.counts.values()) + sum(tally.given_way.values()) == len(found)
        # What stays is a key per place (file, region), and a few lists: far below one
        # collection per 700 findings.
        places = len(tally.by_file) + len(tally.by_offset)
        assert len(collections) <= 1 + places // 700, (collections, places)


def test_adding_a_file_s_findings_at_once_counts_as_one_by_one() -> None:
    """`Tally.add_file` (the file pass's chunks) equals the rule per finding written out: each
    counted under the file as a live file, its digest among the category's distinct ones; a
    generator is read once, and nothing is counted twice or under another file."""
    rng = random.Random(5)
    one, many = Tally(), Tally()
    for size in (0, 1, 7, 2000):
        path = f"partition 1:/docs/{size}.txt"
        found = [
            finding(
                rng.choice(["personnummer", "email", "phone", "person_name"]),
                rng.randrange(1 << 20),
                rng.choice([f"{rng.randrange(1 << 256):064x}", "short", "cd" * 32]),
            )
            for _ in range(size)
        ]
        for f in found:
            one.counts[f.category] += 1
            one.by_file[(f.category, path, LIVE)] += 1
            one.digests.setdefault(f.category, DigestSet()).add(f.digest)
        many.add_file(iter(found), path)
    assert many.counts == one.counts
    assert many.total == 2008
    assert many.by_file == one.by_file
    assert many.digests == one.digests
    assert not many.by_offset
    assert not many.given_way


def test_a_span_of_the_map_holds_one_place() -> None:
    rng = random.Random(4)
    extents = _extent_map(rng)
    # Ranges that overlap (a file inside another's extent, as a corrupt or foreign file system
    # can list them): the span must still end where `locate` starts answering otherwise.
    for _ in range(100):
        at = rng.randrange(200 << 22)
        extents.add(at, at + rng.choice([512, 4096, 1 << 20]), Place(LIVE, f"/overlap{at}"))
    extents.freeze()
    for _ in range(3000):
        where = rng.randrange(210 << 22)
        place, lo, hi = extents.locate_span(where)
        assert lo <= where < hi
        assert place == extents.locate(where)
        for inside in (lo, hi - 1, rng.randrange(lo, hi)):
            assert extents.locate(inside) == place


def test_a_page_tally_goes_back_to_the_parent_without_the_map() -> None:
    # A worker's page tally is pickled back to the raw pass, which holds the map already. It
    # once carried the whole map along: 1.3 MB for a 4 GB drive's 27,000 extents with every
    # 8 MiB page, and unpickling it cost the parent more than the page's matching.
    extents = ExtentMap()
    for i in range(20_000):
        extents.add(i * 8192, i * 8192 + 4096, Place(LIVE, f"/usr/lib/file{i}.so"))
    extents.freeze()
    tally = Tally(locator=extents)
    tally.add_all([finding("email", 4096 * 2 * 7 + 10, "ab"), finding("email", 1 << 40, "cd")])
    alone = Tally()
    alone.add_all([finding("email", 10, "ab")])
    data = pickle.dumps(tally)
    assert len(data) < len(pickle.dumps(alone)) + 200
    back = pickle.loads(data)
    assert back.locator is None
    assert back.counts == tally.counts
    assert back.by_file == tally.by_file == Counter({("email", "/usr/lib/file7.so", LIVE): 1})
    assert back.by_offset == tally.by_offset
    assert len(back.digests["email"]) == 2


def test_locations_are_listed_in_the_same_order_whatever_order_the_pages_came_back() -> None:
    # Worker processes return pages in any order: two scans of one drive must give the same
    # report byte for byte, or an auditor comparing them sees a difference that is not there.
    keys = [("email", "/a.txt", LIVE), ("personnummer", "/a.txt", LIVE), ("email", "/a.txt", SLACK)]
    offsets = [("email", 1 << 20, "deleted or unallocated"), ("phone", 1 << 20, SLACK)]
    reports = []
    for order in (keys, keys[::-1]):
        result = PassResult("raw")
        for key in order:
            result.tally.by_file[key] += 1
        for key in offsets if order is keys else offsets[::-1]:
            result.tally.by_offset[key] += 1
        reports.append(combine("/dev/x", 1 << 30, [result]).to_dict()["locations"])
    assert reports[0] == reports[1]


def test_grouping_by_category_in_c_equals_python() -> None:
    """`scanners._hot.group`, which splits a run's values by category, against the Python
    loop: 1,000 runs of mixed categories (equal strings that are not the same object too)."""
    import pytest

    from scanners import hot, report

    if hot.compiled is None:
        pytest.skip("scanners._hot is not built")
    rng = random.Random(9)
    for _ in range(1000):
        n = rng.randrange(0, 300)
        keys = [rng.choice(["email", "phone", "".join(["pho", "ne"]), "iban"]) for _ in range(n)]
        values = [rng.randrange(1 << 40) for _ in range(n)]
        saved, hot.compiled = hot.compiled, None
        try:
            want = report._by_category(keys, values)
        finally:
            hot.compiled = saved
        got = report._by_category(keys, values)
        assert got == want
        assert list(got) == list(want)
    with pytest.raises(TypeError):
        hot.compiled.group(["a"], [])


def _tallies(seed: int) -> list[Tally]:
    import random

    from scanners.findings import Finding, ValueHasher

    hasher = ValueHasher(b"m" * 32)
    rng = random.Random(seed)
    out = []
    for i in range(40):
        t = Tally()
        found = [
            Finding(rng.choice(["email", "phone", "personnummer"]), rng.randrange(10**8), 9,
                    0.9, hasher.digest(str(rng.randrange(5000))))
            for _ in range(rng.randrange(1, 3000))
        ]  # fmt: skip
        t.add_file(found, f"/f{i % 5}")
        out.append(t)
    return out


def test_the_merging_thread_merges_as_merge_does() -> None:
    from scanners.report import TallyMerger

    merger, here = TallyMerger(), Tally()
    assert not merger.running  # no thread until there is a tally to merge
    for t in _tallies(1):
        merger.add(t)
        here.merge(t)
    got = merger.close()
    assert not merger.running
    assert got.counts == here.counts
    assert got.by_file == here.by_file
    assert all(got.digests[c] == here.digests[c] for c in here.digests)
    assert {c: len(d) for c, d in got.digests.items()} == {
        c: len(d) for c, d in here.digests.items()
    }
    merger.stop()  # again: nothing to do


def test_the_merging_thread_raises_its_error_when_closed() -> None:
    from scanners.report import TallyMerger

    merger = TallyMerger()
    merger.add(_tallies(2)[0])
    merger.add("not a tally")  # type: ignore[arg-type]
    import pytest

    with pytest.raises(AttributeError):
        merger.close()
    assert not merger._thread.is_alive()


def test_a_merger_that_gets_nothing_starts_no_thread() -> None:
    from scanners.report import TallyMerger

    merger = TallyMerger()
    assert merger.close().total == 0
    assert not merger.running
