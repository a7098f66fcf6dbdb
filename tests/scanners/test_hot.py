"""The compiled hot path (`scanners._hot`) against its pure-Python twin: the same answers.

Each compiled function is compared with the Python one on many inputs, and the raw fast path's
findings on the labeled corpus are compared between a process that uses C and one forced to pure
Python (`ASSET_PIPELINE_PURE_PYTHON=1`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from scanners import hot
from scanners.findings import ValueHasher
from scanners.identifiers import iban, luhn, personnummer

ROOT = Path(__file__).resolve().parents[2]
needs_c = pytest.mark.skipif(not hot.COMPILED, reason="scanners._hot is not built")


def test_the_extension_is_built_here() -> None:
    """gcc and python3-dev are installed (.ci/run), so the build must have made it."""
    if os.environ.get(hot.PURE_ENV):
        pytest.skip("pure Python forced")
    assert hot.COMPILED


@needs_c
def test_luhn_same_answers() -> None:
    rng = random.Random(1)
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        assert luhn.luhn_valid(digits) == luhn._luhn_valid_py(digits), digits
    assert luhn.luhn_valid("٣٤") == luhn._luhn_valid_py("٣٤")  # non-ASCII digits: Python's


def _pnr_candidates(rng: random.Random) -> list[str]:
    out = []
    for _ in range(40_000):
        body = "".join(rng.choice("0123456789") for _ in range(10))
        if rng.random() < 0.5:  # a plausible date, so that the later checks are reached
            body = (
                f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(0, 92):02d}"
                + (body[6:])
            )
        sep = rng.choice("-+-x")
        cent = rng.choice(["18", "19", "20", "17", "21"])
        out += [body, body[:6] + sep + body[6:], cent + body, cent + body[:6] + sep + body[6:]]
    return out + ["", "1", "0229", "000229-0000", "20000229-1234", "19000229-1234"]


@needs_c
@pytest.mark.parametrize("today", [None, dt.date(2026, 12, 3), dt.date(2000, 2, 29)])
def test_personnummer_same_answers(today: dt.date | None) -> None:
    for value in _pnr_candidates(random.Random(2)):
        assert personnummer._fields(value, today) == personnummer._fields_py(value, today), value


@needs_c
def test_iban_mod97_same_answers() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        n = rng.randint(15, 34)
        value = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))
        assert iban._mod97(value) == iban._mod97_py(value), value


@needs_c
@pytest.mark.parametrize("key_len", [1, 32, 64, 65, 200])
def test_hmac_same_as_hashlib(key_len: int) -> None:
    rng = random.Random(key_len)
    key = rng.randbytes(key_len)
    hasher = ValueHasher(key)
    for n in [*range(0, 130), 1000]:
        text = "".join(rng.choice("abcåäö0123456789@.+") for _ in range(n))
        want = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        assert hasher.digest(text) == hasher._digest_py(text) == want


_CORPUS_FINDINGS = """
import json, sys
sys.path.insert(0, "tests")
import detector_corpus as corpus
from scanners import hot
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher
data = corpus.build(seed=11, items=3000).text
m = RawMatcher(ValueHasher(b"h" * 32))
out = [[f.category, f.offset, f.length, f.confidence, f.digest]
       for enc in ("utf-8", "utf-16-le") for f in m.scan(data.encode(enc))]
print(json.dumps({"compiled": hot.COMPILED, "findings": out}))
"""


def _corpus_findings(pure: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(hot.PURE_ENV, None)
    if pure:
        env[hot.PURE_ENV] = "1"
    result = subprocess.run(
        [sys.executable, "-c", _CORPUS_FINDINGS], cwd=ROOT, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


@needs_c
def test_corpus_findings_identical_compiled_and_pure() -> None:
    compiled, pure = _corpus_findings(pure=False), _corpus_findings(pure=True)
    assert (compiled["compiled"], pure["compiled"]) == (True, False)
    assert len(compiled["findings"]) > 4000
    assert compiled["findings"] == pure["findings"]
