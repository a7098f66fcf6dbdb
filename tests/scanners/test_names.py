"""The person-name rules' cheap checks give the answers of the regular expressions they skip."""

from __future__ import annotations

import gc
import random
import re
import sys

import pytest

from scanners import names
from scanners.findings import Finding
from scanners.formats import plain


def test_cue_check_equals_the_cue_pattern() -> None:
    """`_cue_before` skips `_CUE` only where it cannot match: no colon and no greeting word,
    in windows of Latin-1 letters (others, with letters such as 'ſ' that match ASCII ones
    case-insensitively, always go to the pattern)."""
    rng = random.Random(5)
    pieces = [
        "Namn:", "kund :", "Med vänliga hälsningar,", "MVH\n", "Best Regards!", "sincerely",
        "HÄLSNINGAR", "ſincerely", "Kind regarDs.", "att:", "text ", "\n", "\t", "x", "ö",
        "Anna", " ", ":", "regards", "İ", "Kontakt", "till", "Från:",
    ]  # fmt: skip
    seen = set()
    for _ in range(50_000):
        window = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))[-40:]
        want = names._CUE.search(window) is not None
        assert names._cue_before(window, 0, len(window)) == want, window
        # Within a longer text: only the window counts.
        before, after = rng.choice(pieces), rng.choice(pieces)
        text = before + window + after
        assert names._cue_before(text, len(before), len(before) + len(window)) == want, text
        seen.add(want)
    assert seen == {True, False}


def test_binary_check_counts_control_bytes_as_before() -> None:
    rng = random.Random(6)
    for _ in range(3000):
        sample = bytes(
            rng.choice([rng.randrange(256), 9, 10, 32, 65, 1, 0x1A])
            for _ in range(rng.randint(0, 300))
        )
        controls = sum(1 for b in sample if b < 0x20 and b not in plain._TEXT_CONTROLS)
        want = bool(sample) and (b"\x00" in sample or controls > len(sample) // 100)
        assert plain._binary(sample) == want


# The patterns as they were first written: a run of one to three words, with the look-behind.
_FIRST_RUN = rf"({names._WORD})(?:[ \t]+({names._WORD}))?(?:[ \t]+({names._WORD}))?(?![\w-])"
_FIRST_INVERTED = rf"({names._WORD}),[ \t]+({names._WORD})(?![\w-])"


def _names_with_look_behind(text: str, behind: str = r"(?<![\w-])") -> list[names.NameMatch]:
    """`find_names` with the patterns as they were written first, look-behind included."""
    patterns = {
        names._NAME_RUN: re.compile(behind + _FIRST_RUN),
        names._INVERTED: re.compile(behind + _FIRST_INVERTED),
    }
    original = names._search
    names._search = lambda pattern, text, pos: patterns[pattern].search(text, pos)
    try:
        return names.find_names_py(text)
    finally:
        names._search = original


def test_the_look_behind_checked_by_hand_finds_the_same_names() -> None:
    """The patterns as first written (look-behind, runs of one word too) against the ones in
    use. Tried: 3,000 texts of names, surnames, capitalised words and cues glued to letters,
    digits, hyphens, underscores and accented letters, in any order; any difference fails."""
    rng = random.Random(5)
    first, last = names.FIRST_NAMES[:60], names.SURNAMES[:60]
    words = [*first, *last, "Berg-Holm", "Karlsson", "Mars", "Och", "Stockholm", "Ab", "X"]
    glue = [" ", "  ", "\t", ", ", ",\t", "-", "_", "1", "x", "é", "\n", ": ", "Namn: ", "Mvh\n"]
    found = glued = 0
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(1, 30)))
        want = _names_with_look_behind(text)
        assert names.find_names(text) == want, text
        found += len(want)
        glued += _names_with_look_behind(text, behind="") != want
    assert found > 1000
    assert glued > 300  # texts where the look-behind decides


@pytest.mark.skipif(names._hot is None, reason="scanners._hot is not built")
def test_names_in_c_equal_the_python_rules() -> None:
    """`scanners._hot.find_names` against `find_names_py` on 12,000 texts: lexicon names,
    surname-like and hyphenated words, words the rules refuse, `Surname, Firstname`, cues with
    colons and greetings (some of them beyond Latin-1, where Python decides), glued to letters,
    digits and signs of every width (Latin-1, the BMP and beyond: the three kinds of str)."""
    rng = random.Random(88)
    first, last = names.FIRST_NAMES[:80], names.SURNAMES[:80]
    words = [*first, *last, "Berg-Holm", "Anna-Lena", "Xyzberg", "Abcson", "Son", "Lindén",
             "Mars", "Och", "Stockholm", "AB", "Ab", "X", "Ärlig", "Öberg", "Émile", "Ülla",
             "Strauß", "Karl-", "Anna-lena", "Ångström", "kalle", "ANNA", "Xson", "Bell",
             "Olin", "Össon", "Øberg", "Ørjan", "Þór", "Ðan"]  # fmt: skip
    glue = [" ", "  ", "\t", ", ", ",\t", ",", "-", "_", "1", "x", "é", "\n", ": ", "Namn: ",
            "Mvh\n", "Med vänliga hälsningar,\n", "KONTAKT:", "Kund : ", "regards ", "ſincerely ",
            "İ", "\u0663", "ñ", "ø", "µ", "×", "\u00a0", "\u2003", "中", "\U0001f600",
            ". "]  # fmt: skip
    found = cued = inverted = 0
    kinds = set()
    for _ in range(12_000):
        text = "".join(
            rng.choice(words) + (" " if rng.random() < 0.5 else rng.choice(glue))
            for _ in range(rng.randint(1, 30))
        )
        want = names.find_names_py(text)
        got = names.find_names(text)
        assert got == want, text
        # the same strings, down to their kind: ASCII names are ASCII strings
        assert [n.normalized.isascii() for n in got] == [n.normalized.isascii() for n in want]
        assert [sys.getsizeof(n.normalized) for n in got] == [
            sys.getsizeof(n.normalized) for n in want
        ]
        found += len(want)
        cued += sum(1 for n in want if n.confidence == 0.85 and ":" in text[: n.start])
        inverted += sum(1 for n in want if n.confidence == 0.8)
        kinds.add(max(map(ord, text)) > 0xFFFF or max(map(ord, text)) > 0xFF)
    assert found > 12_000
    assert cued > 3_000
    assert inverted > 400
    assert kinds == {True, False}


@pytest.mark.skipif(names._hot is None, reason="scanners._hot is not built")
def test_every_latin_1_character_starts_names_in_c_as_in_python() -> None:
    """1-byte texts are skipped by a table of capitals in C: each of the 256 characters as a
    word's first letter, as the letter before one, and after a cue, as `find_names_py`."""
    texts = []
    for c in map(chr, range(256)):
        texts += [
            f"{c}nna Berg och {c}erg, Anna",
            f"Anna {c}erg{c}Kalle Holm",
            f"Kund: {c}lle Xyzberg, {c}",
            f"Mvh\n{c}va Lind {c}",
        ]
    for text in texts:
        assert max(map(ord, text)) <= 0xFF
        assert names.find_names(text) == names.find_names_py(text), repr(text)


@pytest.mark.skipif(names._hot is None, reason="scanners._hot is not built")
def test_capitals_in_every_lane_of_the_16_byte_skip_start_names_as_in_python() -> None:
    """C skips 1-byte text 16 characters at a time (SSE2): each of the 256 characters as a
    first letter at each of 40 offsets (every lane, across block ends and in the tail), after
    a letter, a digit or a space."""
    for c in map(chr, range(256)):
        for offset in range(40):
            for before in ("x", " ", "1"):
                text = "a" * offset + before + f"{c}nna Berg och bo {c}erg, Anna" + "z" * offset
                assert names.find_names(text) == names.find_names_py(text), repr(text)


@pytest.mark.skipif(names._hot is None, reason="scanners._hot is not built")
def test_name_findings_in_c_equal_the_python_loop() -> None:
    """`_hot.findings_of_names` (digest from the key's midstates, the Finding built in C)
    against the Python loop, with the module's floor and with floors that drop names."""
    from scanners.findings import ValueHasher

    hasher = ValueHasher(b"n" * 32)
    rng = random.Random(12)
    words = [*names.FIRST_NAMES[:40], *names.SURNAMES[:40], "Ölund", "Namn:", "Mvh\n"]
    compared = dropped = 0
    for _ in range(1500):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 40)))
        found = names.find_names_py(text)
        want = names._name_findings_py(found, hasher)
        got = names.name_findings(text, hasher)
        assert got == want, text
        assert not any(gc.is_tracked(f) for f in got)
        for floor in (0.8, 0.86):
            higher = names._hot.findings_of_names(
                found, "person_name", floor, hasher._c_inner, hasher._c_outer, Finding
            )
            assert higher == [f for f in want if f.confidence >= floor]
            dropped += len(want) - len(higher)
        compared += len(want)
    assert compared > 5_000
    assert dropped > 1_000


@pytest.mark.skipif(names._hot is None, reason="scanners._hot is not built")
def test_lexicon_tables_answer_as_the_sets_do() -> None:
    """The C lexicon tables (built from frozensets) against the sets' own lookups (plain sets
    are looked up as before): the same names, with lexicons holding words beyond Latin-1 and
    words only one letter apart."""
    rng = random.Random(5)
    first = frozenset([*names.FIRST_NAMES[:300], "Łukasz", "Anno", "Annaa"])
    surnames = frozenset([*names.SURNAMES[:300], "Wałęsa", "Bergg"])
    not_surnames = frozenset(["Stockholm", "Och"])
    words = [*sorted(first)[:120], *sorted(surnames)[:120], "Anna", "Ann", "Berg", "Berga",
             "Stockholm", "Och", "Xyzson"]  # fmt: skip
    for _ in range(3000):
        text = " ".join(rng.choice(words) + rng.choice(["", ",", ":"]) for _ in range(12))
        args = (names._SURNAME_ENDINGS, names._cue_before, names.NameMatch)
        tables = names._hot.find_names(text, first, surnames, not_surnames, *args)
        sets = names._hot.find_names(text, set(first), set(surnames), set(not_surnames), *args)
        assert tables == sets, text
