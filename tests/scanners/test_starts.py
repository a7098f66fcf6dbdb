"""`scanners._hot.starts` (where compressed streams may begin) against bytes.find."""

from __future__ import annotations

import random

import pytest

from scanners.hot import compiled as hot
from scanners.inflate import _SIGNATURES, _signature_hits_py
from tests.scanners.simd import run_on

pytestmark = pytest.mark.skipif(hot is None, reason="scanners._hot is not built")


def reference(data: bytes, start: int, end: int) -> list[int]:
    """The pure-Python twin (bytes.find per signature)."""
    return _signature_hits_py(data, start, end)


def buffers(seed: int, count: int) -> list[bytes]:
    """Random bytes with signatures, their two-byte prefixes and cut signatures planted."""
    rng = random.Random(seed)
    pieces = [*_SIGNATURES, *(s[:2] for s in _SIGNATURES), *(s[:-1] for s in _SIGNATURES)]
    out = []
    for _ in range(count):
        data = bytearray(rng.randbytes(rng.randint(0, 300)))
        for _ in range(rng.randint(0, 12)):
            at = rng.randint(0, len(data))
            data[at:at] = rng.choice(pieces)
        out.append(bytes(data))
    return out


def test_starts_equal_bytes_find_at_every_bound() -> None:
    """Tried: 600 buffers, every start and end near the planted signatures and the edges."""
    tried = found = 0
    for data in buffers(1, 600):
        n = len(data)
        for start in {0, 1, 2, n // 3, max(0, n - 40)}:
            for end in {n, n - 1, n - 2, n // 2, start + 33, start + 17}:
                if not 0 <= start <= end <= n:
                    continue
                want = reference(data, start, end)
                assert hot.starts(data, start, end, _SIGNATURES) == want, (data, start, end)
                tried += 1
                found += len(want)
    assert tried > 2_000
    assert found > 2_000


def test_starts_in_a_large_random_buffer_and_a_memoryview() -> None:
    rng = random.Random(2)
    data = bytearray(rng.randbytes(4 << 20))
    for at in rng.sample(range(len(data) - 20), 500):
        signature = rng.choice(_SIGNATURES)
        data[at : at + len(signature)] = signature
    data = bytes(data)
    want = reference(data, 0, len(data))
    assert len(want) >= 500
    assert hot.starts(memoryview(data), 0, len(data), _SIGNATURES) == want
    assert hot.starts(data, 5, len(data) - 5, _SIGNATURES) == reference(data, 5, len(data) - 5)


def test_bad_needles_are_refused() -> None:
    with pytest.raises(ValueError):
        hot.starts(b"abc", 0, 3, (b"a",))
    with pytest.raises(ValueError):
        hot.starts(b"abc", 0, 3, (b"ab",) * 33)
    assert hot.starts(b"abc", 2, 1, (b"ab",)) == []
    assert hot.starts(b"abc", -5, 99, (b"bc",)) == [1]


@pytest.mark.parametrize("path", ["avx2", "sse2"])
def test_the_narrower_simd_paths_give_the_same_starts(path: str) -> None:
    code = (
        "from scanners._hot import SIMD, starts\n"
        "from scanners.inflate import _SIGNATURES\n"
        "from tests.scanners.test_starts import buffers, reference\n"
        "print(SIMD, sum(starts(d, 0, len(d), _SIGNATURES) != reference(d, 0, len(d))\n"
        "                for d in buffers(3, 500)))\n"
    )
    assert run_on(path, code) == f"{path} 0"
