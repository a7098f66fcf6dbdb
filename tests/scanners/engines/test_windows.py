"""Keyword-free 8-bit patterns matched only in their stretches give the candidates of the whole
buffer (scanners/engines/hyperscan.py, `windows` in scanners/_hot.c)."""

from __future__ import annotations

import random
import re

import pytest

from scanners.engines.hyperscan import HyperscanEngine
from scanners.hot import compiled as hot
from scanners.patterns import compile_kinds

pytestmark = pytest.mark.skipif(hot is None, reason="scanners._hot is not built")

_A = re.compile(rb"[0-9A-Z +().-]{7,}")
_HEX = re.compile(rb"[0-9A-Fa-f:]+")
_LOCAL = frozenset(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&'*+/=?^_`{|}~-"
)
_DOMAIN = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-")


def _is_local(b: int) -> bool:
    return b in _LOCAL or b >= 0x80


def _is_domain(b: int) -> bool:
    return b in _DOMAIN or b >= 0x80


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, overlapping or touching ones joined (as the C code returns them)."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def stretches(data: bytes | memoryview) -> list[tuple[int, int]]:
    """The C stretches of keyword-free values."""
    return hot.windows(data, 0, 0)[0]


def _around(data: bytes, m: re.Match[bytes]) -> tuple[int, int]:
    """A run with one byte either side."""
    return max(0, m.start() - 1), min(len(data), m.end() + 1)


def reference_hex_windows(data: bytes) -> list[tuple[int, int]]:
    """Runs of hex digits and colons that hold "::" or seven colons."""
    return _merged(
        [
            _around(data, m)
            for m in _HEX.finditer(data)
            if b"::" in m.group(0) or m.group(0).count(b":") >= 7
        ]
    )


_QUAD = re.compile(rb"[A-Z+().]{2}[0-9]{2}")


def reference_iban_windows(data: bytes) -> list[tuple[int, int]]:
    """Runs of class A of 12 bytes or more that hold two capitals (or + ( ) .) and two digits."""
    runs = re.finditer(rb"[0-9A-Z +().-]{12,}", data)
    return _merged([_around(data, m) for m in runs if _QUAD.search(m.group(0))])


def reference_windows(
    data: bytes, *, hex_runs: bool = True, emails: bool = True
) -> list[tuple[int, int]]:
    """The stretches as the C code's comment defines them, written the plain way."""
    spans = [_around(data, m) for m in _A.finditer(data)]
    if hex_runs:
        spans += reference_hex_windows(data)
    if emails:
        spans += reference_email_windows(data)
    return _merged(spans)


def reference_email_windows(data: bytes) -> list[tuple[int, int]]:
    """A local-part byte, '@', and a domain run with a dot and two more bytes after it."""
    n, spans = len(data), []
    for at in (i for i, b in enumerate(data) if b == 0x40):
        if at == 0 or not _is_local(data[at - 1]):
            continue
        e = at + 1
        while e < n and _is_domain(data[e]):
            e += 1
        dots = [d for d in range(at + 2, e) if data[d] == 0x2E]
        if dots and e - dots[0] >= 3:
            spans.append((at - 1, min(n, e + 1)))
    return _merged(spans)


def reference_dotted_windows(data: bytes) -> list[tuple[int, int]]:
    """Runs of digits and dots that hold three dots, with a byte either side."""
    runs = re.finditer(rb"[0-9.]+", data)
    return _merged([_around(data, m) for m in runs if m[0].count(b".") >= 3])


def reference_gate_windows(data: bytes, margin: int) -> list[tuple[int, int]]:
    """`margin` bytes around five digits in a row, or a digit, '-' or ' ', and a digit."""
    n, spans = len(data), []
    digit = [48 <= b <= 57 for b in data]
    for j in range(n):
        if not digit[j]:
            continue
        if j >= 4 and all(digit[j - 4 : j + 1]):
            spans.append((max(0, j - 4 - margin), min(n, j + 1 + margin)))
        elif j >= 2 and data[j - 1] in b"- " and digit[j - 2]:
            spans.append((max(0, j - 2 - margin), min(n, j + 1 + margin)))
    return _merged(spans)


def reference_ten_windows(data: bytes, margin: int) -> list[tuple[int, int]]:
    """`margin` bytes around ten digits in a row."""
    spans = [
        (max(0, m.start() - margin), min(len(data), m.end() + margin))
        for m in re.finditer(rb"[0-9]{10,}", data)
    ]
    return _merged(spans)


_DIGIT_RUN = re.compile(rb"[0-9 ()+-]+")


def reference_digit_windows(data: bytes) -> list[tuple[int, int]]:
    """Runs of digits, space and ( ) + - that hold seven digits, with a byte either side."""
    runs = _DIGIT_RUN.finditer(data)
    return _merged([_around(data, m) for m in runs if sum(c in b"0123456789" for c in m[0]) >= 7])


def pairs_of(found: bytes | None) -> list[tuple[int, int]] | None:
    """A list of `windows` given as bytes of native (lo, hi) pairs, as a list of pairs."""
    if found is None:
        return None
    bounds = memoryview(found).cast("n")
    return list(zip(bounds[::2], bounds[1::2], strict=True))


def reference_wide_windows(data: bytes, margin: int) -> list[tuple[int, int]]:
    """Runs of three or more UTF-16LE units of Latin-1 text (a byte other than 0, then 0), in
    either byte parity, widened by `margin` bytes."""
    n, spans = len(data), []
    for parity in (0, 1):
        i = parity
        while i + 1 < n:
            j = i
            while j + 1 < n and data[j] and not data[j + 1]:
                j += 2
            if j - i >= 6:
                spans.append((max(0, i - margin), min(n, j + margin)))
            i = max(j, i + 2)
    return _merged(spans)


TOKENS = [
    b"19800101-1234", b"800101-1234", b"198001011234", b"4111 1111 1111 1111",
    b"4111111111111111", b"+46 70 123 45 67", b"+46 (8) 123 456 78", b"070-123 45 67",
    b"(08) 123 45 67", b"SE45 5000 0000 0583 9825 7466", b"SE556677889901", b"a@b.se",
    b"J\xc3\xb6rgen@r\xc3\xa4ksm\xc3\xb6rg\xc3\xa5s.se", b"x@xn--p1ai", b"192.168.1.10",
    b"::ffff:192.0.2.1", b"fe80::1", b"2001:db8:0:0:0:0:0:1", b"00:00:00", b"@", b"::",
    b".", b" ", b"-", b"0", b"12", b"Personnummer ", b"e-post ", b"\x00", b"\xff",
    b"bankgiro ", b"Bankgiro 5050-1055", b"pg ", b"plusgiro 12 34 56-7", b"4711-3", b"orgnr ",
    b"5566778899", b"Storgatan 1, ", b"123 45 Stad", b"12345", b"Box 123, 456 78 Kiruna",
    b"f\xc3\xb6delsenummer ", b"1-2", b"12 34",
]  # fmt: skip
ALPHABET = b"0123456789 .-+()@:ABEFSXabcfz_!\x80\xc3\xa4\x00\x01\xff\n;"
# UTF-16 text: the tokens, and gated values with their word at the far end of the gap, the gap
# filled with units outside Latin-1 ("\u20ac") that break the run of text.
WIDE_TOKENS = [t.decode("utf-8", "replace").encode("utf-16-le") for t in TOKENS] + [
    f"{word}{chr(0x20AC) * gap}{value}".encode("utf-16-le")
    for word, value in (("Personnummer ", "8112189876"), ("bankgiro ", "5050-1055"))
    for gap in (0, 47, 95, 96, 97)
] + [
    f"{value}{chr(0x20AC) * gap}personnummer".encode("utf-16-le")
    for value in ("8112189876", "123 45")
    for gap in (0, 23, 47, 48, 49)
]  # fmt: skip


def fuzz_buffers(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 60)):
            r = rng.random()
            if r < 0.4:
                parts.append(rng.choice(TOKENS))
            elif r < 0.55:  # UTF-16 text in either byte parity
                parts.append(b"\x00" * rng.randint(0, 1) + rng.choice(WIDE_TOKENS))
            elif r < 0.8:
                parts.append(bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))))
            else:
                parts.append(rng.randbytes(rng.randint(1, 64)))
        out.append(b"".join(parts))
    return out


EDGES = [
    b"", b"@", b"a@b.se", b"a@b.s", b"@b.se", b"a@.se", b"a@b.c.d", b"0701234567",
    b"070123456", b"070123", b"::", b"a::", b"::1 ", b"1:2:3:4:5:6:7:8", b"1:2:3:4:5:6:7",
    b"x" * 63 + b"1980010112345", b"x" * 58 + b"19800101-1234" + b"x" * 70,
    b"1" * 200, b"A" * 64 + b"1" * 64, b"@" * 130, b":" * 130, b"a@b.cd" * 20,
] + [b"x" * k + b"070-123 45 67" for k in range(60, 70)]  # fmt: skip


@pytest.mark.parametrize("data", EDGES)
def test_windows_are_the_defined_stretches_at_edges(data: bytes) -> None:
    assert stretches(data) == reference_windows(data)


def test_gate_windows_are_the_defined_surroundings() -> None:
    rng = random.Random(8)
    buffers = fuzz_buffers(4, 300) + EDGES + [rng.randbytes(70_000) for _ in range(5)]
    for margin in (0, 3, 152):
        for data in buffers:
            found, near_gates, wide = hot.windows(data, margin, margin)
            assert found == reference_windows(data)
            assert near_gates == reference_gate_windows(data, margin), data[:200]
            assert wide == reference_wide_windows(data, margin), data[:200]


def test_split_lists_are_the_defined_stretches() -> None:
    """With `split`, the IPv6 runs leave the first list for their own, the IBAN runs have
    theirs, and so have the surroundings of ten digits and the runs that hold seven digits;
    without, the first list holds the IPv6 runs. Tried: 400 fuzzed and 5 random buffers, and
    the edges, at three margins."""
    rng = random.Random(12)
    buffers = fuzz_buffers(6, 400) + EDGES + [rng.randbytes(70_000) for _ in range(5)]
    buffers += [b"1" * k for k in (6, 7, 9, 10, 11, 63, 64, 65, 200)]
    buffers += [b"x" * k + b"8112189876" for k in range(52, 66)]
    buffers += [b"x" * k + b"(0)1 2-3+4 56x7 8 9 0" + b" " * j for k in (0, 1, 62) for j in (0, 3)]
    buffers += [b" " * 200 + b"123456", b"1 2 3 4 5 6 7", b"1.2.3.4.5.6.7.8", b"(+)" * 50]
    ibans = hexes = tens = digits = 0
    for data in buffers:
        lists = hot.windows(data, 152, 152, -1, True)
        first, gates, wide, hex_runs, iban_runs, ten_runs, runs, dotted = lists
        hex_runs, iban_runs = pairs_of(hex_runs), pairs_of(iban_runs)
        assert first == reference_windows(data, hex_runs=False, emails=False), data[:200]
        assert pairs_of(dotted) == reference_dotted_windows(data), data[:200]
        assert hex_runs == reference_hex_windows(data), data[:200]
        assert iban_runs == reference_iban_windows(data), data[:200]
        assert gates == reference_gate_windows(data, 152), data[:200]
        assert ten_runs == reference_ten_windows(data, 152), data[:200]
        assert pairs_of(runs) == reference_digit_windows(data), data[:200]
        for margin in (0, 3):
            assert hot.windows(data, margin, 0, -1, True)[5] == reference_ten_windows(data, margin)
        emails = reference_email_windows(data)  # the first list's without `split`
        assert hot.windows(data, 152, 152)[0] == _merged(first + hex_runs + emails)
        ibans += len(iban_runs)
        hexes += len(hex_runs)
        tens += len(ten_runs)
        digits += len(runs) // 16
    assert ibans > 200
    assert hexes > 300
    assert tens > 100
    assert digits > 1000


def test_the_lists_of_runs_are_given_up_past_their_own_limit() -> None:
    """Past `own_limit` stretches the IPv6, IBAN, digit runs' and dotted runs' lists are None
    each; the others do not change."""
    for data, at in (
        (b"tel 070-123 45 67, pnr 811218-9876. " * 100, 6),
        (b"from fe80::1 to x, " * 200, 3),
        (b"IBAN SE45 5000 0000 0583 9825 7466; x; " * 200, 4),
        (b"relay=[192.0.2.10]:25, " * 200, 7),
    ):
        lists = hot.windows(data, 152, 152, -1, True)
        assert len(pairs_of(lists[at])) == 200
        for limit in (0, 199, 200, 201):
            limited = hot.windows(data, 152, 152, -1, True, limit)
            assert limited[:3] + limited[5:6] == lists[:3] + lists[5:6]
            assert limited[at] == (None if limit < 200 else lists[at])


def test_dense_text_keeps_the_ipv6_and_iban_stretches(engines) -> None:
    """Text with stretches everywhere is matched whole, except by the IPv6 and IBAN patterns,
    which run only in their own stretches: the same candidates as the whole buffer's."""
    windowed, whole = engines
    line = b"Mar  1 10:00:00 mx1 postfix: to=<anna@example.se>, relay=mx[192.0.2.10]:25\n"
    rare = [b"IBAN SE45 5000 0000 0583 9825 7466.\n", b"from fe80::1 and 2001:db8::7\n"]
    data = b"".join(line * 40 + rare[k % 2] for k in range(200))
    lists = hot.windows(data, 0, 0, len(data) // windowed.bytes_per_stretch, True)
    assert lists[0] is None
    assert len(pairs_of(lists[3])) == 200  # two addresses a line, one run each
    assert len(pairs_of(lists[4])) == 100
    assert set(windowed.candidates(data)) == set(whole.candidates(data))


def test_a_limit_gives_up_only_the_first_list() -> None:
    """Past `limit` stretches the first list is None (the caller matches the whole buffer); the
    gate and UTF-16 lists are the same as without a limit. Tried: 300 fuzzed and 5 random
    buffers, one of text dense with stretches, each at four limits."""
    rng = random.Random(9)
    line = b"Mar  1 10:00:00 mx1 postfix: to=<anna@example.se>, relay=mx[192.0.2.10]:25\n"
    wide = "Personnummer 19800101-1234, tel 070-123 45 67 ".encode("utf-16-le")
    buffers = fuzz_buffers(5, 300) + [rng.randbytes(70_000) for _ in range(5)]
    buffers.append(line * 2000 + wide * 50)
    given_up = 0
    for data in buffers:
        found, near_gates, wide_runs = hot.windows(data, 152, 152)
        for limit in (0, 1, len(found), len(data) // 1024):
            first, gates, runs = hot.windows(data, 152, 152, limit)
            assert (gates, runs) == (near_gates, wide_runs), data[:200]
            if first is None:  # counted before merging, so the merged list may be shorter
                given_up += 1
                assert found, data[:200]
            else:
                assert first == found, data[:200]
    assert given_up > 300
    text = hot.windows(line * 2000, 0, 0, (len(line) * 2000) // 1024)
    assert text[0] is None
    assert text[1]


def test_windows_are_the_defined_stretches_in_fuzzed_and_random_buffers() -> None:
    rng = random.Random(7)
    buffers = fuzz_buffers(1, 400) + [rng.randbytes(rng.randint(1, 70_000)) for _ in range(20)]
    for data in buffers:
        assert stretches(data) == reference_windows(data), data[:200]
    assert stretches(memoryview(bytearray(b"xx a@b.se"))) == [(3, 9)]


@pytest.fixture(scope="module")
def engines() -> tuple[HyperscanEngine, HyperscanEngine]:
    """The engine as built, and one built as without the C extension (whole buffers only)."""
    pytest.importorskip("hyperscan")
    from scanners.engines import hyperscan as module

    windowed = HyperscanEngine(compile_kinds())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_hot", None)
        whole = HyperscanEngine(compile_kinds())
    assert windowed._windowed is not None
    assert whole._windowed is None
    return windowed, whole


def _both_ways(engines: tuple[HyperscanEngine, HyperscanEngine], data: bytes) -> tuple[set, set]:
    """Candidates through stretches (joined whatever their number), and of the whole buffer."""
    windowed, whole = engines
    windowed.bytes_per_stretch = windowed.own_bytes_per_stretch = 0
    try:
        return set(windowed.candidates(data)), set(whole.candidates(data))
    finally:
        del windowed.bytes_per_stretch, windowed.own_bytes_per_stretch


def test_windowed_candidates_equal_the_whole_buffers(
    engines: tuple[HyperscanEngine, HyperscanEngine],
) -> None:
    """Tried: 1,300 buffers (fuzzed tokens and bytes, random, edges, text); any difference fails."""
    rng = random.Random(11)
    buffers = fuzz_buffers(2, 1200) + EDGES + [rng.randbytes(1 << 20) for _ in range(4)]
    buffers.append(b" ".join(fuzz_buffers(3, 300)))  # a large one, mostly text: read whole
    noisy = bytearray(rng.randbytes(1 << 20))
    for token in TOKENS * 20:
        at = rng.randrange(len(noisy) - 40)
        noisy[at : at + len(token)] = token
    buffers.append(bytes(noisy))
    buffers += [b"\x00" * k + t for t in WIDE_TOKENS for k in (0, 1)]
    seen = gate_ends = wide_seen = wide_gate_ends = 0
    compiled = compile_kinds()
    gated = {i for i, c in enumerate(compiled) if c.kind.gate}
    wide = {i for i, c in enumerate(compiled) if c.wide}
    for data in buffers:
        windowed, whole = _both_ways(engines, data)
        assert windowed == whole, data[:200]
        seen += len(whole)
        gate_ends += sum(1 for _, i in whole if i in gated - wide)
        wide_seen += sum(1 for _, i in whole if i in wide - gated)
        wide_gate_ends += sum(1 for _, i in whole if i in gated & wide)
    assert seen > 5_000  # the buffers do hold candidates of every windowed kind
    assert gate_ends > 1_000  # and keyword-gated values near their words
    assert wide_seen > 1_000  # in UTF-16 text too
    assert wide_gate_ends > 300


def test_random_bytes_are_mostly_outside_the_windows() -> None:
    data = random.Random(3).randbytes(8 << 20)
    covered = sum(hi - lo for lo, hi in stretches(data))
    assert covered < len(data) // 500


@pytest.mark.parametrize("path", ["avx2", "sse2"])
def test_the_narrower_simd_paths_give_the_same_stretches(path: str) -> None:
    """The class masks come from AVX-512 or AVX2 where the CPU has them, else SSE2: each path
    is checked here as the default one is above."""
    from tests.scanners.simd import run_on

    code = (
        "from scanners._hot import SIMD, windows\n"
        "from tests.scanners.engines.test_windows import (\n"
        "    fuzz_buffers, reference_gate_windows, reference_wide_windows, reference_windows,\n"
        "    reference_digit_windows, reference_dotted_windows, pairs_of)\n"
        "bad = [d for d in fuzz_buffers(9, 300) if windows(d, 0, 0)[0] != reference_windows(d)\n"
        "       or pairs_of(windows(d, 0, 0, -1, True)[6]) != reference_digit_windows(d)\n"
        "       or pairs_of(windows(d, 0, 0, -1, True)[7]) != reference_dotted_windows(d)\n"
        "       or windows(d, 152, 0)[1] != reference_gate_windows(d, 152)\n"
        "       or windows(d, 0, 304)[2] != reference_wide_windows(d, 304)]\n"
        "print(SIMD, len(bad))\n"
    )
    assert run_on(path, code) == f"{path} 0"


def test_text_dense_with_stretches_is_matched_whole(engines) -> None:
    windowed, whole = engines
    line = b"Mar  1 10:00:00 mx1 postfix: to=<anna@example.se>, relay=mx[192.0.2.10]:25\n"
    data = line * 3000
    assert len(stretches(data)) * windowed.bytes_per_stretch > len(data)
    assert set(windowed.candidates(data)) == set(whole.candidates(data))


def test_the_gate_margin_holds_every_gated_value() -> None:
    """`_gate_margin` allows 32 bytes for a gated value and the bytes its pattern checks after
    it; the patterns' own widths say whether that is enough."""
    import re._parser as sre_parse

    for c in compile_kinds():
        if c.kind.gate is not None and not c.wide:
            assert sre_parse.parse(c.value_source).getwidth()[1] <= 32, c.kind.name


def test_the_ten_digit_gates_hold_ten_digits_in_a_row() -> None:
    """Gate patterns in the sixth list of `windows` run only around runs of ten digits: each
    pattern of such a kind must be a sequence that holds ten digits (its value, before or after
    the keyword), and so must the value that `_gated_values` looks for around its match."""
    import re._parser as sre_parse

    from scanners.engines.hyperscan import GATE_STRETCHES

    digits = [(sre_parse.IN, [(sre_parse.RANGE, (48, 57))])]

    def holds_ten_digits(source: str) -> bool:
        return any(
            op == sre_parse.MAX_REPEAT and av[:2] == (10, 10) and list(av[2]) == digits
            for op, av in sre_parse.parse(source)
        )

    ten = [c for c in compile_kinds() if GATE_STRETCHES.get(c.kind.name) == 5 and not c.wide]
    assert ten
    for c in ten:
        assert holds_ten_digits(c.value_source), c.kind.name
        assert all(holds_ten_digits(source) for source in c.sources), c.kind.name
    assert not holds_ten_digits("[0-9]{9}")


def test_the_digit_run_kinds_match_inside_runs_that_hold_seven_digits() -> None:
    """Kinds in the seventh list of `windows` are matched only in runs of digits, space and
    ( ) + - that hold seven digits, with one byte either side: each of their patterns must be
    an optional boundary byte (or `^`), bytes of that class only, and a boundary byte (or `$`),
    and hold seven digits in every match. Parsed, not checked by example."""
    import re._parser as sre_parse

    from scanners.engines.hyperscan import _OWN_STRETCHES, FOUND_IN_C

    run_class = set(b"0123456789 ()+-")

    def in_class(items: list) -> bool:
        for op, av in items:
            if op == sre_parse.LITERAL:
                ok = av in run_class
            elif op == sre_parse.IN:
                ok = all(
                    (kind == sre_parse.LITERAL and v in run_class)
                    or (kind == sre_parse.RANGE and set(range(v[0], v[1] + 1)) <= run_class)
                    for kind, v in av
                )
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
                ok = in_class(list(av[2]))
            elif op == sre_parse.SUBPATTERN:
                ok = in_class(list(av[3]))
            elif op == sre_parse.BRANCH:
                ok = all(in_class(list(alt)) for alt in av[1])
            else:
                ok = False
            if not ok:
                return False
        return True

    def digits(items: list) -> int:
        """The fewest digits any match of `items` holds."""
        total = 0
        for op, av in items:
            if op == sre_parse.LITERAL:
                total += 48 <= av <= 57
            elif op == sre_parse.IN:
                total += all(kind == sre_parse.RANGE and 48 <= v[0] <= v[1] <= 57 for kind, v in av)
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
                total += av[0] * digits(list(av[2]))
            elif op == sre_parse.SUBPATTERN:
                total += digits(list(av[3]))
            elif op == sre_parse.BRANCH:
                total += min(digits(list(alt)) for alt in av[1])
        return total

    def boundary(item: tuple, anchor: object) -> bool:
        """`(?:anchor|[^...])`: one byte outside the class, or the buffer's edge."""
        op, av = item
        if op == sre_parse.SUBPATTERN:
            return len(av[3]) == 1 and boundary(av[3][0], anchor)
        if op != sre_parse.BRANCH:
            return False
        alts = [list(alt) for alt in av[1]]
        return all(
            alt == [(sre_parse.AT, anchor)]
            or (len(alt) == 1 and alt[0][0] == sre_parse.IN and alt[0][1][0][0] == sre_parse.NEGATE)
            for alt in alts
        )

    lists = {**_OWN_STRETCHES, **{kind: at for at, _, kinds in FOUND_IN_C for kind in kinds}}
    kinds = [c for c in compile_kinds() if lists.get(c.kind.name) == 6 and not c.wide]
    assert {c.kind.name for c in kinds} == {"pnr_form", "card", "phone_intl", "phone_nat"}
    for c in kinds:
        for source in c.sources:
            items = list(sre_parse.parse(source))
            if boundary(items[0], sre_parse.AT_BEGINNING):
                items = items[1:]
            assert boundary(items[-1], sre_parse.AT_END), (c.kind.name, source)
            assert in_class(items[:-1]), (c.kind.name, source)
            assert digits(items[:-1]) >= 7, (c.kind.name, source)
    assert not in_class(list(sre_parse.parse("[0-9]{7}\\.")))
    assert digits(list(sre_parse.parse("(?:[0-9]{6}|[0-9]{8})"))) == 6


def test_the_wide_margin_holds_every_utf16_gate_match() -> None:
    """A UTF-16 gate match is a keyword, a gap of any units and a value whose units lie in one
    run of text: all but the value must fit in the margin around that run."""
    import re._parser as sre_parse

    from scanners.engines.hyperscan import _wide_margin

    compiled = [c for c in compile_kinds() if c.wide]
    margin = _wide_margin(compiled)
    for c in compiled:
        if c.kind.gate is None:
            continue
        core = sre_parse.parse(c.core.pattern.decode("latin-1")).getwidth()[0]
        for source in c.sources:
            assert sre_parse.parse(source).getwidth()[1] - core <= margin, c.kind.name


def test_joined_stretches_are_the_same_in_c_and_python() -> None:
    """Tried: stretches of 300 fuzzed buffers and random spans (past the end included), each
    with four gaps, parity kept or not."""
    from scanners.engines.hyperscan import _join_py

    rng = random.Random(21)
    tried = 0
    for data in fuzz_buffers(5, 300):
        n = len(data)
        cuts = sorted(rng.randint(0, n + 40) for _ in range(2 * rng.randint(0, 8)))
        for spans in (hot.windows(data, 0, 0)[0], list(zip(cuts[::2], cuts[1::2], strict=True))):
            for gap in (0, 1, 2, 152):
                for even in (False, True):
                    assert hot.join(data, spans, gap, even) == _join_py(data, spans, gap, even=even)
                    tried += 1
    assert tried == 300 * 2 * 4 * 2
    with pytest.raises(ValueError):
        hot.join(b"abc", [(2, 1)], 1, False)
    with pytest.raises(ValueError):
        hot.join(b"abc", [(-1, 1)], 1, False)


def test_buffers_with_every_list_given_up_give_the_whole_buffers_candidates(
    engines, monkeypatch
) -> None:
    """Text dense with IPv6 addresses and IBANs as well fills all three lists of stretches past
    their limit (here one per 1024 bytes for all): fuzzed buffers mixed with it, cut at five
    lengths, give the same candidates as the whole buffer. Tried: 200 buffers."""
    windowed, whole = engines
    monkeypatch.setattr(windowed, "own_bytes_per_stretch", windowed.bytes_per_stretch)
    line = b"Mar  1 10:00:00 mx1 from fe80::1 to 2001:db8::7 IBAN SE45 5000 0000 0583 9825 7466\n"
    rng = random.Random(13)
    tried = all_given_up = 0
    for seed in range(40):
        parts = fuzz_buffers(seed, 30) + [(line * 300)[: rng.randrange(len(line) * 300)]] * 3
        rng.shuffle(parts)
        data = b"".join(parts)
        for cut in (len(data), len(data) // 2, 70_000, 5000, 800):
            part = data[:cut]
            limit = len(part) // windowed.bytes_per_stretch
            margins = (windowed._gate_margin, windowed._wide_margin)
            lists = hot.windows(part, *margins, limit, True, limit)
            all_given_up += lists[0] is None and lists[3] is None and lists[4] is None
            assert set(windowed.candidates(part)) == set(whole.candidates(part)), part[:200]
            tried += 1
    assert tried == 200
    assert all_given_up > 100


_DIGIT_TOKENS = [
    b"19811218-9876", b"811218-9876", b"811218+9876", b"198112189876", b"1234567890123",
    b"4111 1111 1111 1111", b"4111-1111-1111-1", b"4111 111111 11111", b"4111 11111 111111",
    b"41111111111111111111", b"070-123 45 67", b"0701234567", b"08-123 456", b"(08) 123 45 67",
    b"(0) 1234", b"(070)1234567", b"(08)  123", b"+46 70 123 45 67", b"0046 8 123 456",
    b"07 0-1 2", b"0-7", b"00", b"0", b"1", b"12", b"1234", b"(", b")", b"+", b"-", b" ", b"  ",
    b"a", b"Z", b".", b"\xe9", b"x0701234567", b"0701234567a", b"12345678901234567890123",
    b"4" * 300, b"4" * 300 + b" 1234-5678",
]  # fmt: skip
_MAIL_AND_IP = [
    b"a@b.se", b"a@b.s", b"a@b.c1d.se", b"a@b.cd-x.se", b"a@b..se", b"a@.b.se", b"a@b.se.",
    b"a@b.s\xe9", b"a@b.se\xe9", b"a@b." + b"x" * 24, b"a@b." + b"x" * 25, b"a@b.xn--p1ai",
    b"a@b.XN--p1ai", b"a@b.xn--", b"a@b.xn-", b"@b.se", b"a@@b.se", b"\xe5@b.se", b" @b.se",
    b"a@b.se1", b"a@b-.se-", b"1.2.3.4", b"1.2.3.4.5", b"1234.5.6.7", b"1.2345.6.7", b"1.2.3.",
    b".1.2.3.4", b"1..2.3.4", b"999.999.999.999", b"0.0.0.0", b"1.2.3.4567", b"12.34.56.78.9",
    b"192.0.2.10]:25", b"a1.2.3.4", b".", b"@", b"1", b"-", b"x", b" ", b"\x00",
]  # fmt: skip


def test_starts_found_in_c_are_hyperscans() -> None:
    """The `scanners._hot` functions of `FOUND_IN_C` give the starts hyperscan reports for
    their kinds' patterns (the leftmost start of every match), in the stretches `windows` lists
    for them and in the whole buffer. Tried: 3,000 buffers of crafted tokens and random bytes a
    function; any difference fails."""
    pytest.importorskip("hyperscan")
    from array import array

    from scanners.engines.hyperscan import FOUND_IN_C, _Database

    compiled = compile_kinds()
    index = {c.kind.name: i for i, c in enumerate(compiled) if not c.wide}
    rng = random.Random(41)
    tried = 0
    found = {kind: 0 for _, _, kinds in FOUND_IN_C for kind in kinds}
    for at, function, kinds in FOUND_IN_C:
        find, indices = getattr(hot, function), [index[kind] for kind in kinds]
        db = _Database([(s, i) for i in indices for s in compiled[i].sources], frozenset())
        tokens, alphabet = _MAIL_AND_IP, b"0123456789.@ab-xnXN\xe9 "
        if at == 6:
            tokens, alphabet = _DIGIT_TOKENS, b"0123456789 ()+-a.\xe9"
        for _ in range(3000):
            parts = [
                rng.choice(tokens)
                if rng.random() < 0.6
                else bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
                for _ in range(rng.randint(1, 30))
            ]
            data = b"".join(parts)
            want = sorted(set(db.pairs(data)))
            spans = None if at is None else hot.windows(data, 0, 0, -1, True)[at]
            for got in (find(data, spans, *indices), find(data, None, *indices)):
                assert sorted({(k >> 8, k & 255) for k in array("Q", got)}) == want, (kinds, data)
            tried += 1
            for _, i in want:
                found[compiled[i].kind.name] += 1
    assert tried == 3000 * len(FOUND_IN_C)
    assert min(found.values()) > 1000, found
    with pytest.raises(ValueError, match="0-255"):
        hot.email_keys(b"a@b.se", None, 256)
    with pytest.raises(ValueError, match="whole"):
        hot.ipv4_keys(b"1.2.3.4", b"\x00" * 8, 1)
