"""Distinct digests in bounded memory, with the count of a plain set (issue 18 part 1)."""

from __future__ import annotations

import pickle
import random
import tempfile
from pathlib import Path

from scanners.digests import DigestSet, spill_dir
from scanners.findings import ValueHasher
from scanners.report import Tally


def test_distinct_count_equals_a_set_of_the_full_digests_across_batches() -> None:
    hasher = ValueHasher(bytes(32))
    rng = random.Random(1)
    values = [f"kund{rng.randrange(60_000)}@example.se" for _ in range(150_000)]
    digests = [hasher.digest(v) for v in values]
    compact = DigestSet()
    for d in digests:
        compact.add(d)
    assert len(compact) == len(set(digests)) == len(set(values))
    assert digests[7] in compact
    assert hasher.digest("nobody@example.se") not in compact
    # 16 bytes a value, where a set of hex strings costs over 100.
    assert compact.nbytes <= 16 * len(set(values)) + 16 * (1 << 16)


def test_union_merge_and_pickle_keep_the_count() -> None:
    hasher = ValueHasher(bytes(32))
    a = DigestSet(hasher.digest(str(i)) for i in range(0, 70_000))
    b = DigestSet(hasher.digest(str(i)) for i in range(50_000, 120_000))
    assert len(a | b) == 120_000
    assert DigestSet.union([a, b]) == 120_000
    a.update(pickle.loads(pickle.dumps(b)))
    assert len(a) == 120_000


def test_tallies_from_workers_merge_to_the_exact_distinct_count() -> None:
    from scanners.findings import Finding

    hasher = ValueHasher(bytes(32))
    parts = [Tally() for _ in range(4)]
    for i in range(100_000):
        digest = hasher.digest(f"{i % 45_000}")
        parts[i % 4].add(Finding("email", i, 10, 0.9, digest), offset=i)
    total = Tally()
    for part in parts:
        total.merge(pickle.loads(pickle.dumps(part)))  # as worker processes send them
    assert total.counts["email"] == 100_000
    assert len(total.digests["email"]) == 45_000


def test_merging_many_small_sets_keeps_the_count_and_folds_in_batches(monkeypatch) -> None:
    """A raw pass merges one small set per page: the merged set sorts in batches, not per merge."""
    from scanners import digests

    sorts: list[int] = []
    distinct = digests._distinct
    monkeypatch.setattr(
        digests, "_distinct", lambda rows: sorts.append(len(rows)) or distinct(rows)
    )
    hasher = ValueHasher(bytes(32))
    total = DigestSet()
    for page in range(300):
        part = DigestSet(hasher.digest(f"{(page * 500 + i) % 90_000}") for i in range(500))
        total.update(part)
    assert len(total) == 90_000
    assert len(sorts) < 20  # 300 merges, a handful of sorts
    total.update(total)
    assert len(total) == 90_000


def test_sorted_sets_merged_in_join_as_parts_and_spill_by_their_distinct_rows() -> None:
    """Sets sent by workers arrive sorted: they join as parts, sorted together only when the
    parts hold `spill_rows` rows; a run is written only when most of those are distinct.
    Tried: 200 sets of 0-3,000 rows drawn from 20,000 or from 150 values, spill_rows 4,000;
    the count and every row equal one sorted set of all of them."""
    import numpy as np

    from scanners.digests import _distinct

    rng = np.random.default_rng(5)
    for pool in (20_000, 150):
        values = rng.integers(0, 2**64 - 1, size=(pool, 2), dtype=np.uint64)
        total, whole = DigestSet(spill_rows=4_000), []
        for _ in range(200):
            rows = values[rng.integers(0, pool, size=int(rng.integers(0, 3_000)))]
            part = DigestSet(spill_rows=4_000)
            part.add_heads(rows.tobytes())
            total.update(pickle.loads(pickle.dumps(part)))  # sorted, as a worker sends it
            whole.append(rows)
            assert len(total._parts) <= DigestSet.MAX_PARTS
            assert total.nbytes <= 16 * (4_000 + 3_000) * 2
        want = _distinct(np.concatenate(whole))
        assert len(total) == len(want)
        assert b"".join(total) == want.tobytes()
        assert (total.spilled_rows > 0) == (pool == 20_000)


def test_distinct_rows_equal_numpy_unique_with_an_unstable_sort() -> None:
    """`_distinct` sorts with numpy's default (unstable, vectorized) sort. Tried: 300 arrays of
    up to 20,000 rows, with repeated rows and first words shared by different second words;
    each equals `np.unique(axis=0)`, which sorts by both words."""
    import numpy as np

    from scanners.digests import _distinct

    rng = np.random.default_rng(11)
    for trial in range(300):
        high = (50, 5_000, 2**64 - 1)[trial % 3]
        rows = rng.integers(0, high, size=(int(rng.integers(0, 20_000)), 2), dtype=np.uint64)
        if trial % 3 == 1:
            rows[:, 1] = rows[:, 0] * np.uint64(7)  # repeats only: the one-word path
        rows = np.concatenate((rows, rows[: len(rows) // 3]))
        assert np.array_equal(_distinct(rows), np.unique(rows, axis=0)), trial


def test_distinct_rows_in_c_equal_numpy_from_threads_and_any_alignment() -> None:
    """`scanners._hot.distinct_rows` against `_distinct_np`. Tried: 200 arrays of up to 300,000
    rows (digest-like, all in one top byte, all of one first word, many repeats of a few rows)
    read from an odd address, from 4 threads at once;
    a length not a multiple of 16 is refused."""
    import threading

    import numpy as np
    import pytest

    from scanners import hot
    from scanners.digests import _distinct_np

    if hot.compiled is None:
        pytest.skip("scanners._hot is not built")

    def rows_for(trial: int) -> np.ndarray:
        rng = np.random.default_rng(trial)  # one a trial: threads share no generator
        n = int(rng.integers(0, 300_000 if trial % 10 == 0 else 3_000))
        rows = rng.integers(0, 2**64 - 1, size=(n, 2), dtype=np.uint64)
        kind = trial % 4
        if kind == 1:  # one top byte: one coarse bucket, split by the next bits
            rows[:, 0] &= np.uint64(2**56 - 1)
        elif kind == 2:  # one first word: one bucket, sorted by the second word
            rows[:, 0] = 12345
        elif kind == 3 and n:  # a few rows many times over
            rows = rows[rng.integers(0, 1 + n // 100, size=n)]
        return rows

    failures: list[int] = []

    def check(trials: range) -> None:
        for trial in trials:
            rows = rows_for(trial)
            odd = memoryview(b"x" + rows.tobytes())[1:]
            kept = np.frombuffer(hot.compiled.distinct_rows(odd), dtype=np.uint64).reshape(-1, 2)
            if not np.array_equal(kept, _distinct_np(rows)):
                failures.append(trial)

    threads = [threading.Thread(target=check, args=(range(k, 200, 4),)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with pytest.raises(ValueError, match="16 bytes"):
        hot.compiled.distinct_rows(bytes(17))


def test_sets_past_their_memory_spill_to_disk_with_the_same_answers() -> None:
    """With a small `spill_rows`, sorted rows go to runs on disk: the distinct count,
    membership, iteration, equality, union, merge and pickling give what an all-in-memory set
    gives, memory stays within the bound, and the runs have no name in the file system."""
    hasher = ValueHasher(bytes(32))
    rng = random.Random(9)
    values = [f"kund{rng.randrange(40_000)}@example.se" for _ in range(100_000)]
    digests = [hasher.digest(v) for v in values] + ["short", "x" * 70]  # other strings too
    small, whole = DigestSet(spill_rows=2000), DigestSet(spill_rows=1 << 30)
    for start in range(0, len(digests), 777):
        batch = digests[start : start + 777]
        if start % 2:
            small.add_all(batch)
        else:
            for d in batch:
                small.add(d)
        whole.add_all(batch)
    assert small.spilled_rows > 20_000  # repeats across runs included
    assert len(small) == len(whole) == len(set(digests))
    assert small.nbytes <= 16 * 2000 + 16 * 500  # the sorted rows and one pending batch
    assert small == whole
    assert whole == small
    assert list(small) == list(whole)
    assert all(d in small for d in digests[::97])
    assert hasher.digest("nobody@example.se") not in small
    assert not list(Path(spill_dir() or tempfile.gettempdir()).glob("digests-*"))
    other = DigestSet((hasher.digest(f"ny{i}") for i in range(5000)), spill_rows=1000)
    assert DigestSet.union([small, other]) == len(set(digests)) + 5000
    assert len(small | other) == len(set(digests)) + 5000
    merged = DigestSet(spill_rows=3000)
    merged.update(other)
    merged.update(small)
    assert len(merged) == len(set(digests)) + 5000
    assert pickle.loads(pickle.dumps(small)) == whole
    assert small != other


def test_hex_heads_in_c_equal_python_and_refuse_what_is_not_hex() -> None:
    """`scanners._hot.hex_heads` against `_hex_heads_py` (bytes.fromhex). Tried: 2,000 lists of
    digests, some with one bad entry: upper-case hex, a space, a non-hex letter, a Latin-1 or
    astral character, 63 or 65 characters, bytes; None for each list with a bad entry."""
    import pytest

    from scanners import hot
    from scanners.digests import _hex_heads_py

    if hot.compiled is None:
        pytest.skip("scanners._hot is not built")
    rng = random.Random(5)
    bad = [
        lambda d: d.upper(),  # still hex: both read it
        lambda d: d[:10] + " " + d[11:],
        lambda d: d[:10] + "  " + d[12:],  # fromhex skips both: a digest one byte short
        lambda d: d[:40] + "g" + d[41:],
        lambda d: d[:63] + "\u00e9",
        lambda d: d[:5] + "\U0001f600" + d[6:],
        lambda d: d[:63],
        lambda d: d + "0",
        lambda d: d.encode(),
    ]
    refused = 0
    for trial in range(2000):
        digests = [f"{rng.randrange(1 << 256):064x}" for _ in range(rng.randrange(0, 40))]
        if digests and trial % 2:
            at = rng.randrange(len(digests))
            digests[at] = rng.choice(bad)(digests[at])
        want = _hex_heads_py(digests) if all(isinstance(d, str) for d in digests) else None
        assert hot.compiled.hex_heads(digests) == want, digests
        refused += want is None
        if want is not None:  # any sequence of digests: a tuple goes to the Python twin
            from scanners.digests import _hex_heads

            assert _hex_heads(tuple(digests)) == want
    assert refused > 500
