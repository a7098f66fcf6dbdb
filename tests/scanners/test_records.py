"""The raw pass's records (`scanners.records`) against the findings they stand for.

`RawMatcher.scan_records` must give exactly the values `scan` gives, and `Tally.add_records`
must count them exactly as `Tally.add_all` counts the findings: both are oracles for each other
here, on generated text, random bytes, crafted values that the C rules hand to Python, and
located runs of every kind of place.
"""

from __future__ import annotations

import random

import detector_corpus as corpus
import pytest

from scanners import records
from scanners.digests import DigestSet
from scanners.fastpath import RawMatcher
from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.places import LIVE, SLACK, ExtentMap, Place
from scanners.report import Tally
from scanners.sqliterecords import Records
from tests.scanners.test_fastpath import SAMPLE

HASHER = ValueHasher(b"r" * 32)
# Values a C rule leaves to Python (a foreign phone number libphonenumber refuses or takes, an
# e-mail address with a UTF-8 domain, a UTF-16 one) next to the common ones.
ODD = (
    "ring +999 12345678 eller +1 212 555 0100, mejla åsa@exempel.se eller "
    "kund@bücher.example, pnr 19811218-9876.\n"
)


def _inputs() -> list[bytes]:
    rng = random.Random(7)
    return [
        corpus.build(seed=3, items=800).text.encode("utf-8"),
        corpus.build(seed=4, items=300).text.encode("utf-16-le"),
        SAMPLE.encode("utf-8") * 20,
        SAMPLE.encode("latin-1") * 5,
        ODD.encode("utf-8") * 10,
        ODD.encode("utf-16-le") * 3,
        bytes(rng.getrandbits(8) for _ in range(300_000)),
        b"",
    ]


@pytest.mark.parametrize("index", range(8))
def test_records_are_the_findings(index: int) -> None:
    data = _inputs()[index]
    matcher = RawMatcher(HASHER)
    found = matcher.scan(data, 12345)
    made = matcher.scan_records(data, 12345)
    assert made.dtype == records.RECORD
    assert made.tolist() == records.of_findings(found).tolist()
    if index < 6:
        assert len(found) > 10


@pytest.mark.parametrize("count", [1, 2, 3, 70])
def test_digests_two_at_a_time_are_the_digests_one_at_a_time(count: int) -> None:
    """Records' digests are computed in pairs where the CPU has SHA instructions (a short
    value waits for the next): values of 1 to 70 bytes (one SHA block holds 55), odd and even
    counts, each record's digest as the findings' one-at-a-time hex digest, and as records
    made with pairs turned off."""
    from scanners.hot import compiled

    if compiled is None:
        pytest.skip("scanners._hot is not built")
    rng = random.Random(count)
    addresses = [
        "".join(rng.choice("abcdefgh") for _ in range(1 + (i * 7) % 60)) + f"@ex{i}.se"
        for i in range(count)
    ]
    data = ("\n".join(f"mejl {a} slut" for a in addresses) + "\n").encode()
    matcher = RawMatcher(HASHER)
    wanted = records.of_findings(matcher.scan(data, 5)).tolist()
    assert len(wanted) == count
    paired = matcher.scan_records(data, 5).tolist()
    was = compiled.pairs_enabled(False)
    try:
        single = matcher.scan_records(data, 5).tolist()
    finally:
        compiled.pairs_enabled(was)
    assert paired == wanted
    assert single == wanted


def test_records_without_c_are_the_same() -> None:
    data = corpus.build(seed=8, items=400).text.encode("utf-8") + ODD.encode("utf-8")
    matcher, pure = RawMatcher(HASHER), RawMatcher(HASHER)
    pure._in_c = None
    assert matcher.scan_records(data).tolist() == pure.scan_records(data).tolist()


def test_only_wanted_categories_and_confidences_are_kept() -> None:
    data = SAMPLE.encode("utf-8") * 3
    matcher = RawMatcher(HASHER, categories=["email", "phone"], min_confidence=0.9)
    made = matcher.scan_records(data)
    assert made.tolist() == records.of_findings(matcher.scan(data)).tolist()
    assert {CATEGORIES[c] for c in made["category"]} <= {"email", "phone"}


def test_stream_records_are_the_stream_findings() -> None:
    import io

    data = corpus.build(seed=9, items=2000).text.encode("utf-8")
    matcher = RawMatcher(HASHER)
    whole = matcher.scan_stream(io.BytesIO(data), chunk_size=8192, base_offset=7)
    parts = list(matcher.scan_stream_records(io.BytesIO(data), chunk_size=8192, base_offset=7))
    assert len(parts) > 10
    assert records.joined(parts).tolist() == records.of_findings(whole).tolist()


def _findings(rng: random.Random, n: int, span: int) -> list[Finding]:
    out = []
    for _ in range(n):
        value = rng.randrange(400)  # repeats, so distinct counts differ from counts
        digest = HASHER.digest(f"v{value}")
        category = rng.choice(CATEGORIES[:11])
        out.append(Finding(category, rng.randrange(span), rng.randrange(1, 40), 0.9, digest))
    return sorted(out, key=lambda f: f.offset)


def _map(rng: random.Random, span: int) -> ExtentMap:
    """Live files (some decoded by the file pass), slack and gaps (unallocated) over `span`."""
    extents = ExtentMap()
    at = 0
    while at < span:
        size = rng.randrange(1, 50_000)
        kind = rng.randrange(4)
        if kind == 0:
            extents.add(at, at + size, Place(LIVE, f"/f{at}.txt"))
        elif kind == 1:
            extents.add(at, at + size, Place(LIVE, f"/d{at}.csv", decoded=True))
        elif kind == 2:
            extents.add(at, at + size, Place(SLACK, f"/f{at}.txt"))
        at += size + rng.randrange(3) * 1000
    extents.freeze()
    return extents


def _same(a: Tally, b: Tally) -> None:
    assert a.counts == b.counts
    assert a.given_way == b.given_way
    assert a.by_file == b.by_file
    assert a.by_offset == b.by_offset
    assert a.region_size == b.region_size
    assert set(a.digests) == set(b.digests)
    for category, kept in a.digests.items():
        assert kept == b.digests[category]
        assert len(kept) == len(b.digests[category])


@pytest.mark.parametrize("seed", range(6))
def test_records_count_as_findings(seed: int) -> None:
    rng = random.Random(seed)
    span = 4_000_000
    located = _map(rng, span) if seed % 3 else None
    by_findings, by_records = Tally(locator=located), Tally(locator=located)
    for _ in range(5):
        found = _findings(rng, rng.randrange(0, 5000), span)
        by_findings.add_all(found)
        by_records.add_records(records.of_findings(found))
        stream = _findings(rng, rng.randrange(0, 300), span)
        at = rng.randrange(span)
        by_findings.add_all(stream, offset=at)
        by_records.add_records(records.of_findings(stream), offset=at)
    assert by_findings.total > 0
    _same(by_findings, by_records)


def test_records_out_of_order_count_as_findings() -> None:
    rng = random.Random(11)
    found = _findings(rng, 3000, 2_000_000)
    rng.shuffle(found)
    located = _map(rng, 2_000_000)
    a, b = Tally(locator=located), Tally(locator=located)
    a.add_all(found)
    b.add_records(records.of_findings(found))
    _same(a, b)


def test_many_regions_coarsen_as_findings_do() -> None:
    # Values a region apart, in unallocated space: more regions than the tally lists.
    step = Tally.region_size
    found = [
        Finding("email", i * step, 10, 0.9, HASHER.digest(str(i))) for i in range(10_050)
    ]  # fmt: skip
    a, b = Tally(), Tally()
    a.add_all(found)
    b.add_records(records.of_findings(found))
    assert b.region_size > step
    _same(a, b)


def test_heads_join_the_digest_set_as_hex_digests_do() -> None:
    digests = [HASHER.digest(str(i)) for i in range(1000)]
    by_hex, by_heads = DigestSet(), DigestSet()
    by_hex.add_all(digests)
    by_heads.add_heads(b"".join(bytes.fromhex(d[:32]) for d in digests))
    assert by_hex == by_heads
    with pytest.raises(ValueError):
        by_heads.add_heads(b"x" * 15)


class _Fields(Records):
    """SQLite fields given directly (what `text_fields` finds in a table page)."""

    def __init__(self, fields: list[tuple[int, int]], found: list[Finding]) -> None:
        import numpy as np

        self._fields = fields
        self.found = records.by_offset(records.of_findings(found))
        self._starts = np.asarray([lo for lo, _ in fields])
        self._reach = np.maximum.accumulate(np.asarray([hi for _, hi in fields]))


def test_fields_drop_the_plain_values_that_touch_them() -> None:
    """`Records.apply` against the plain rule: a value touching any field gives way."""
    rng = random.Random(3)
    for _ in range(200):
        fields = sorted(
            (lo, lo + rng.randrange(1, 300))
            for lo in rng.sample(range(0, 20_000), rng.randrange(1, 30))
        )
        own = _findings(rng, rng.randrange(0, 20), 20_000)
        plain = _findings(rng, rng.randrange(0, 200), 20_000)
        lo, hi = sorted(rng.sample(range(0, 20_000), 2))
        got = _Fields(fields, own).apply(records.of_findings(plain), lo, hi)
        kept = [
            f
            for f in plain
            if lo <= f.offset < hi
            and not any(a < f.offset + f.length and f.offset < b for a, b in fields)
        ]
        expected = sorted(kept + [f for f in own if lo <= f.offset < hi], key=lambda f: f.offset)
        assert got.tolist() == records.of_findings(expected).tolist()


def test_name_records_are_the_name_findings() -> None:
    from scanners import names

    text = corpus.build(seed=12, items=1500).text + " Åsa Öberg och Berg, Anna. "
    found = names.name_findings(text, HASHER)
    assert len(found) > 100
    made = names.name_records(text, HASHER)
    assert made.tolist() == records.of_findings(found).tolist()
    pure = ValueHasher(b"r" * 32)
    pure._c_inner = None  # the Python loop
    assert names.name_records(text, pure).tolist() == made.tolist()


def test_file_records_count_as_file_findings() -> None:
    rng = random.Random(13)
    a, b = Tally(), Tally()
    for i in range(20):
        found = _findings(rng, rng.randrange(0, 800), 1_000_000)
        a.add_file(found, f"/f{i % 3}")
        b.add_file_records(records.of_findings(found), f"/f{i % 3}")
    assert a.total > 0
    _same(a, b)


def test_a_refused_phone_number_leaves_no_cycle_holding_the_page() -> None:
    """phonenumbers keeps a refused number's exception in a local of its frame: a cycle that
    held every frame above it (the page, the megabyte of inflated log) until the collector ran.
    Counting values as records, a worker ran it so seldom that it held 60 MB more (and a page
    block it had to close). Scanned with the collector off, nothing is left for it."""
    import gc
    import sys

    page = bytearray(b"ring +999 12345678 eller +1 212 555 0100\n" * 50)
    matcher = RawMatcher(HASHER)
    gc.collect()
    was_on = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        found = matcher.scan_records(memoryview(page))
        del found
        gc.collect()
        kept = (BaseException, type(sys._getframe()))
        left = [o for o in gc.garbage if isinstance(o, kept)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_on:
            gc.enable()
    assert left == []
    page += b"x"  # no view of the page is left: it can grow


@pytest.mark.parametrize("seed", range(4))
def test_name_records_in_c_are_the_name_findings_on_fuzzed_text(seed: int) -> None:
    """`find_name_records` (C, no row a name) against `name_findings` (rows, then digests):
    names in every form the rules take, with Latin-1 letters, text beyond Latin-1 around them,
    inverted names and names inside names."""
    from scanners import names

    rng = random.Random(seed)
    parts = ["Anna Berg", "Åsa Öberg-Lind", "Berg, Anna", "Mvh Erik", "Émile Über", "Lars",
             "Karin Johansson Nilsson", "Hälsning: Per Ek", "日本 Anna Öst", ", ", ". ", "\n",
             "kund", "Nils-Erik Sjöström", "Olsson, Maria", "Zoë", "ß", "Ärlig Ände"]  # fmt: skip
    text = "".join(rng.choice(parts) + rng.choice([" ", ", ", "\n", ": "]) for _ in range(4000))
    made = names.name_records(text, HASHER)
    assert len(made) > 200
    assert made.tolist() == records.of_findings(names.name_findings(text, HASHER)).tolist()
