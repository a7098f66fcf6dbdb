"""`scanners._hs` (hyperscan through the system's libhs, matches kept in C) against the
`hyperscan` binding, which calls Python for every match.

Two builds of the library and two bindings: the same patterns must give the same candidates,
values and findings on fuzzed text of every kind, UTF-16 text (narrow views: scaled, shifted
and renumbered matches), random bytes and media-like buffers (stretches joined), and gate
patterns (match ends).
"""

from __future__ import annotations

import random

import pytest

from scanners.engines import export, hyperscan, preload
from scanners.engines.hyperscan import HyperscanEngine
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher
from tests.scanners.test_confirm import _buffer

_hs = hyperscan._hs
pytestmark = pytest.mark.skipif(_hs is None, reason="scanners._hs is not built (no libhs)")
HASHER = ValueHasher(b"k" * 32)


def _buffers(rng: random.Random) -> list[bytes]:
    text = b"\n".join(_buffer(rng) for _ in range(rng.randint(1, 8)))
    media = bytes(rng.randrange(256) for _ in range(rng.randint(0, 5000)))
    return [
        text,
        text.decode("latin-1").encode("utf-16-le"),
        media,
        media[: len(media) // 2] + text + media[len(media) // 2 :],  # stretches in media
        text * 30,  # dense: matched whole
    ]


def test_libhs_gives_the_bindings_candidates_and_findings() -> None:
    rng = random.Random(2883)
    in_c, binding = RawMatcher(HASHER), RawMatcher(HASHER)
    binding._engine = HyperscanEngine(binding._compiled, binding=True)
    assert in_c._engine._windowed._libhs is not None  # type: ignore[union-attr]
    assert binding._engine._windowed._libhs is None  # type: ignore[union-attr]
    candidates = findings = wide = 0
    for _ in range(300):
        for buf in _buffers(rng):
            for data in (buf, memoryview(bytearray(buf))):
                got = in_c._engine.candidates(data)  # type: ignore[union-attr]
                want = binding._engine.candidates(data)
                assert sorted(got) == sorted(want), buf[:200]
                candidates += len(want)
            found = in_c.scan(buf, 4096)
            assert found == binding.scan(buf, 4096)
            findings += len(found)
            wide += buf[1:2] == b"\x00"
    assert candidates > 100_000
    assert findings > 20_000
    assert wide > 100


def test_values_near_gate_words() -> None:
    """The gated kinds' values in windows (joined with UTF-16 parity kept): the same starts."""
    rng = random.Random(5)
    ours = HyperscanEngine(RawMatcher(HASHER)._compiled)
    theirs = HyperscanEngine(RawMatcher(HASHER)._compiled, binding=True)
    gated = sorted(ours._gated)
    compared = 0
    for _ in range(300):
        data = b"\n".join(_buffer(rng) for _ in range(4))
        step = rng.randint(50, 300)
        windows = [
            (lo, min(len(data), lo + step + rng.randint(0, 40)), kind)
            for kind in gated
            for lo in range(rng.randrange(step), len(data), step)
        ]
        got = ours.values(data, windows)
        assert got == theirs.values(data, windows)
        compared += len(got)
    assert compared > 1_000


def test_match_ends_ids_and_scaling() -> None:
    """A database whose id 1 reports ends: positions scaled and shifted, ids renumbered."""
    import hyperscan as library

    som = library.HS_FLAG_SOM_LEFTMOST
    blob = _hs.compile([b"ab+", b"cd+"], [som, 0], [0, 1])
    db = _hs.Database(blob, b"\x00\x01")
    data = b"xxabbb cddd ab"
    # every end of a match is reported: ab, abb, abbb with their start; cd, cdd, cddd by end
    assert sorted(db.scan(data)) == [(2, 0)] * 3 + [(9, 1), (10, 1), (11, 1), (12, 0)]
    assert sorted(db.scan(data, 2, 1, (7, 9))) == [(5, 7)] * 3 + [
        (19, 9),
        (21, 9),
        (23, 9),
        (25, 7),
    ]
    assert db.scan(b"") == []
    with pytest.raises(KeyError):
        db.scan(data, 1, 0, (7,))  # id 1 has no entry
    with pytest.raises(TypeError):
        db.scan(data, 1, 0, [7, 9])


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: _hs.compile([b"(unclosed"], [0], [0]), ValueError),
        (lambda: _hs.compile([], [], []), ValueError),
        (lambda: _hs.compile([b"a"], [0, 0], [0]), ValueError),
        (lambda: _hs.compile(["a"], [0], [0]), TypeError),
        (lambda: _hs.Database(b"not a database", b""), ValueError),
        (lambda: _hs.compile([b"a\x00b"], [0], [0]), ValueError),
    ],
)
def test_bad_input_is_one_clear_error(call, error) -> None:
    with pytest.raises(error):
        call()


def test_a_worker_loads_libhs_databases_without_compiling(monkeypatch) -> None:
    monkeypatch.setattr(hyperscan, "_DATABASES", {})
    expected = RawMatcher(HASHER).scan(b"Personnummer 811218-9876, mejl anna@example.se.")
    databases = export()
    assert len(databases) == 8
    hyperscan._DATABASES.clear()
    preload(databases)

    def no_compiling(*args: object) -> bytes:
        raise AssertionError("compiled although the database was preloaded")

    monkeypatch.setattr(_hs, "compile", no_compiling)
    assert RawMatcher(HASHER).scan(b"Personnummer 811218-9876, mejl anna@example.se.") == expected


def test_threads_share_a_database() -> None:
    """Scans run with the GIL released, each on its own clone of the database's scratch: four
    threads scanning at once get what one thread gets, buffer by buffer."""
    import threading

    engine = HyperscanEngine(RawMatcher(HASHER)._compiled)
    rng = random.Random(17)
    buffers = [b for _ in range(40) for b in _buffers(rng)]
    want = [sorted(engine.candidates(b)) for b in buffers]
    got: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def work(thread: int) -> None:
        for i, b in enumerate(buffers):
            got[(thread, i)] = sorted(engine.candidates(b))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[(t, i)] == want[i] for t in range(4) for i in range(len(buffers)))
    assert sum(map(len, want)) > 10_000


def test_libhs_needs_not_the_binding() -> None:
    """A matcher on libhs never loads the binding (a second copy of the library in every
    process); the flags it compiles with are the binding's own."""
    import subprocess
    import sys

    import hyperscan as library

    assert _hs.FLAG_DOTALL == library.HS_FLAG_DOTALL
    assert _hs.FLAG_SOM_LEFTMOST == library.HS_FLAG_SOM_LEFTMOST
    script = (
        "import sys\n"
        "from scanners.fastpath import RawMatcher\n"
        "from scanners.findings import ValueHasher\n"
        "found = RawMatcher(ValueHasher(b'k' * 32)).scan(b'pnr 811218-9876, anna@example.se')\n"
        "print(len(found), 'hyperscan' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]


def test_packed_keys_are_the_pairs() -> None:
    """`Database.scan(packed=True)` and `candidate_keys`: the same matches as the pairs, as
    native uint64 keys (position << 8 | id), for 8-bit text, UTF-16 text (scaled, shifted,
    renumbered) and stretches joined in media; through libhs and through the binding."""
    from array import array

    rng = random.Random(8)
    in_c, binding = RawMatcher(HASHER), RawMatcher(HASHER)
    binding._engine = HyperscanEngine(binding._compiled, binding=True)
    db = in_c._engine._windowed  # type: ignore[union-attr]

    def unpacked(keys: bytes) -> list[tuple[int, int]]:
        return sorted((k >> 8, k & 255) for k in array("Q", keys))

    compared = 0
    for _ in range(200):
        for buf in _buffers(rng):
            for matcher in (in_c, binding):
                engine = matcher._engine
                want = sorted(engine.candidates(buf))  # type: ignore[union-attr]
                assert unpacked(engine.candidate_keys(buf)) == want  # type: ignore[union-attr]
                compared += len(want)
            assert unpacked(db._libhs.scan(buf, packed=True)) == sorted(db.pairs(buf))
            assert unpacked(db._libhs.scan(buf, 2, 1, packed=True)) == sorted(db.pairs(buf, 2, 1))
    assert compared > 50_000
    ids = tuple(range(300))
    with pytest.raises(ValueError, match="ids 0-255"):
        db._libhs.scan(b"moms SE556677889901 ", ids=(299,) * 300, packed=True)
    assert db._libhs.scan(b"", ids=ids, packed=True) == b""
    with pytest.raises(ValueError, match="ids 0-255"):
        hyperscan.packed([(5, 256)])


def test_spans_scanned_in_c_are_mapped_back_as_in_python() -> None:
    """`Database.scan_spans`: the matches of the spans joined by `gap` bytes of 0x01, each at
    its place in the buffer, as `_scan_stretches` maps them in Python (a start from the span it
    lies in, an end from the span its last byte lies in); spans as pairs and as bytes, from
    `windows` and random, for start and end databases. Tried: 600 buffers x 3 databases x 3 gaps
    x 2 forms of spans."""
    import bisect
    from array import array

    from scanners.hot import compiled as hot

    engine = RawMatcher(HASHER)._engine
    databases = [db for _, db in engine._by_list[:1] + engine._gates_by_list[:1]]  # type: ignore[union-attr]
    databases.append(dict(engine._by_list)[6])  # type: ignore[union-attr]
    assert any(db.ends for db in databases)
    assert not all(db.ends for db in databases)

    def in_python(db, data: bytes, spans: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
        joined, origins = hyperscan._join_py(data, spans, gap)
        found = []
        for pos, ident in db.pairs(joined):
            w = bisect.bisect_right(origins, pos - 1 if ident in db.ends else pos) - 1
            found.append((pos + spans[w][0] - origins[w], ident))
        return sorted(found)

    rng = random.Random(34)
    tried = matched = 0
    for _ in range(200):
        for data in _buffers(rng)[::2]:
            n = len(data)
            cuts = sorted(rng.randint(0, n) for _ in range(2 * rng.randint(0, 30)))
            lists = [list(zip(cuts[::2], cuts[1::2], strict=True)), hot.windows(data, 0, 0)[0]]
            runs = memoryview(hot.windows(data, 0, 0, -1, True)[6]).cast("n")
            lists.append(list(zip(runs[::2], runs[1::2], strict=True)))
            for spans in lists:
                as_bytes = array("q", [x for pair in spans for x in pair]).tobytes()
                for db in databases:
                    for gap in (0, 1, 152):
                        want = in_python(db, data, spans, gap)
                        for form in (spans, as_bytes):
                            got = db.span_keys(data, form, gap)
                            assert sorted((k >> 8, k & 255) for k in array("Q", got)) == want
                            tried += 1
                        matched += len(want)
    assert tried == 200 * 3 * 3 * 3 * 3 * 2
    assert matched > 5_000
    db = databases[0]
    with pytest.raises(ValueError, match="whole"):
        db.span_keys(b"abc", b"\x00" * 8, 1)
    with pytest.raises(ValueError, match="gap"):
        db.span_keys(b"abc", [(0, 1)], -1)
    with pytest.raises(TypeError):
        db.span_keys(b"abc", [(0,)], 1)
    assert db.span_keys(b"abc", [], 1) == b""
