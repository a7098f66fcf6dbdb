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
def _windows(rng: random.Random) -> list[str]:
    """Windows as the raw path sees bytes (Latin-1): UTF-8 letters and non-letters, cut
    sequences, overlong and surrogate forms, runs of one high byte, random bytes, and a few
    str beyond Latin-1 (decoded text)."""
    pieces = [
        "å",
        "ä",
        "ö",
        "Ä",
        "é",
        "ß",
        "ł",
        "ж",
        "一",
        "갰",
        "\u20ac",
        "\u2000",
        "\ud7a3",
        "\U0001d400",
        "©",
        "×",
        "µ",
    ]
    utf8 = [p.encode("utf-8").decode("latin-1") for p in pieces]
    raw = [
        "\xe0\x80\x80", "\xe0\x83\xa4", "\xed\xa0\x80", "\xc3", "\xe2\x82", "\x7f\x7f",
        "\xff\xff\xff", "\xb0\xb0", "\xc0\x80", "\xf0\x9f\x98\x80", "ab", " ", "1", "\n",
    ]  # fmt: skip
    out = []
    for _ in range(6000):
        parts = [rng.choice(utf8 + raw) for _ in range(rng.randint(0, 12))]
        window = "".join(parts)
        cut = rng.randint(0, 3)
        out += [window, window[cut:], window[: len(window) - cut]]
        out.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 30))).decode("latin-1"))
    return out + ["", "€ab", "ä" + "\u0101"]


@needs_c
def test_high_letters_same_answers() -> None:
    """Tried: 24,000 windows; C counts equal the two regular expressions' (None beyond Latin-1)."""
    from scanners import context

    rng = random.Random(12)
    windows = _windows(rng)
    letters = 0
    for window in windows:
        got = hot.compiled.high_letters(window)
        if max(window, default="\x00") > "\xff":
            assert got is None
            continue
        assert got == context.high_letters_py(window), ascii(window)
        letters += got[1] > 0
    assert letters > 5_000


@needs_c
def test_textual_same_answers_compiled_and_pure(monkeypatch) -> None:
    from scanners import context

    rng = random.Random(13)
    windows = _windows(rng)
    words = ["", "Avtal med ", "kund ", "när ", " och sådär"]
    pairs = [
        (rng.choice(words) + rng.choice(windows), rng.choice(windows) + rng.choice(words))
        for _ in range(20_000)
    ]
    compiled = [context.textual(b, a) for b, a in pairs]
    monkeypatch.setattr(context, "_hot", None)
    assert [context.textual(b, a) for b, a in pairs] == compiled
    assert 200 < sum(compiled) < len(pairs) - 1_000  # both answers are tried


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


@needs_c
def test_keyword_search_same_answers() -> None:
    """Tried: 40,000 windows per category of words (any case, UTF-8 read as Latin-1, cut) with
    letters, digits, Swedish letters, clause ends and other bytes around them, in the whole
    window, its first or its last clause; C and the regular expressions agree."""
    from scanners import context

    rng = random.Random(14)
    around = ["", " ", "a", "Z", "1", "å", "Ö", "é", "Ü", "ß", "-", ".", ":", "\n", "\xc3", "\xa0",
              "µ", "×", "÷", "Þ", "þ", "ÿ", "\x00", "_", ". ", "!\x0b", "?\x85", ";\xa0", "\t",
              ".\x1c", "\r", "; ;"]  # fmt: skip
    for category, words in context.KEYWORDS.items():
        forms = [f for w in words for f in (w, context._mojibake(w))]
        hits = 0
        for _ in range(40_000):
            parts = []
            for _ in range(rng.randint(0, 4)):
                word = rng.choice(forms)
                word = rng.choice([word, word.upper(), word.title(), word[:-1], word[1:]])
                parts += [rng.choice(around), word, rng.choice(around)]
            window = "".join(parts)
            clause = rng.choice((context.WHOLE, context.FIRST_CLAUSE, context.LAST_CLAUSE))
            want = context.has_word_py(category, window, clause)
            assert context.has_word(category, window, clause) == want, (category, window, clause)
            hits += want
        assert 5_000 < hits < 35_000, category
    assert hot.compiled.keywords_in(context._TABLES["phone"], "tel \u20ac") is None


@needs_c
def test_keyword_search_at_every_offset_across_64_bytes() -> None:
    """Windows are searched 64 bytes at a time: a word at each offset from 0 to 140, after a
    letter, a digit, a space or a Swedish letter (which hide it) and with one after it, in
    every clause mode; C and the regular expressions agree (3 x 141 x 6 x 4 windows a word)."""
    from scanners import context

    tried = hits = 0
    for category, words in context.KEYWORDS.items():
        for word in words[:3]:
            for k in range(141):
                for lead in ("x", "7", " ", "å", ". ", "\n"):
                    for tail in ("", " ", "a", ". x"):
                        window = (lead * k)[-k:] + word + tail if k else word + tail
                        for clause in (context.WHOLE, context.FIRST_CLAUSE, context.LAST_CLAUSE):
                            want = context.has_word_py(category, window, clause)
                            got = context.has_word(category, window, clause)
                            assert got == want, (category, window, clause)
                            tried += 1
                            hits += want
    assert tried > 100_000
    assert hits > tried // 4


@needs_c
def test_keyword_search_same_answers_without_avx512() -> None:
    """With AVX-512 the places where a word can start, and the clause ends, come from masks of
    64 bytes; byte by byte without it: the same test on that path."""
    from tests.scanners.simd import run_on

    code = (
        "from scanners._hot import SIMD\n"
        "from tests.scanners.test_hot import (\n"
        "    test_keyword_search_at_every_offset_across_64_bytes as at_offsets,\n"
        "    test_keyword_search_same_answers as same)\n"
        "same()\n"
        "at_offsets()\n"
        "print(SIMD)\n"
    )
    assert run_on("avx2", code) == "avx2"
