"""UTF-16LE through its narrow view: when it is used, what it holds, and that findings agree."""

from __future__ import annotations

import random

import detector_corpus as corpus
import pytest

from scanners.engines import utf16
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher

HASHER = ValueHasher(b"k" * 32)
TEXT = corpus.build(seed=11, items=1500).text


def test_utf16_text_is_recognised_in_either_alignment() -> None:
    data = TEXT.encode("utf-16-le")
    assert len(data) >= utf16.MIN_SIZE
    assert utf16.mostly_utf16(data)
    assert utf16.mostly_utf16(memoryview(b"\x07" + data))


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        random.Random(1).randbytes(1 << 20),
        bytes(1 << 20),
        TEXT.encode("utf-16-le")[: utf16.MIN_SIZE - 2],  # too short to be worth the views
    ],
    ids=["utf-8", "random", "zeros", "short"],
)
def test_other_buffers_keep_the_utf16_patterns(data: bytes) -> None:
    assert not utf16.mostly_utf16(data)


def test_narrow_view_keeps_latin1_units_and_masks_the_rest() -> None:
    data = b"\x00" + "Aö€ 1".encode("utf-16-le")
    assert bytes(utf16.narrow(data, 1)) == b"A\xf6\xff 1"
    assert len(utf16.narrow(data, 0)) == 5


def test_findings_are_the_same_through_the_view_or_the_utf16_patterns(monkeypatch) -> None:
    # UTF-16 text with characters outside Latin-1, at both alignments, between 8-bit text and
    # binary noise: every candidate found one way must be found the other.
    rng = random.Random(3)
    parts = []
    for start in range(0, len(TEXT), 4000):
        piece = TEXT[start : start + 4000].replace("e", rng.choice("eé€ł"), 3)
        parts.append(piece.encode(rng.choice(["utf-16-le", "utf-16-le", "utf-8"])))
        parts.append(rng.randbytes(rng.randint(1, 9)))
    data = b"".join(parts)
    matcher = RawMatcher(HASHER)
    assert matcher.engine == "hyperscan"  # the narrow view is hyperscan's
    monkeypatch.setattr(utf16, "mostly_utf16", lambda d: True)
    through_view = matcher.scan(data)
    monkeypatch.setattr(utf16, "mostly_utf16", lambda d: False)
    through_patterns = matcher.scan(data)
    assert len(through_view) > 1000
    assert through_view == through_patterns


def test_numpy_starts_no_blas_threads() -> None:
    """numpy taken for the UTF-16 views first (before `scanners.digests`) starts no OpenBLAS
    thread pool: a raw-pass worker is one thread, and its CPU time is its own matching."""
    import subprocess
    import sys

    code = (
        "import os\n"
        "from scanners.engines import utf16\n"
        "utf16.mostly_utf16(bytes(1 << 17))\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "1", out.stderr
