"""The person-name rules' cheap checks give the answers of the regular expressions they skip."""

from __future__ import annotations

import random
import re

from scanners import names
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
        return names.find_names(text)
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
