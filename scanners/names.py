"""Person names without a statistical model: Swedish name lexicons plus rules.

Lexicons (package data, sources in each file's header): `data/sv_first_names.txt` (Isof's top 500
first names of each sex, 2023) and `data/sv_surnames.txt` (Skatteverket's top 500 surnames, 2025),
both as shipped in the sv_SE provider of the Faker package.

Rules, strongest first:
1. A field or signature word (`Namn:`, `Kund:`, `Kontaktperson:`, `Med vänliga hälsningar`,
   `Mvh`, `Best regards`, ...) followed by two or three capitalised words: a name, lexicon or not.
2. A lexicon first name (optionally a second one) followed by a capitalised word that is a lexicon
   surname, or looks like one (-son, -berg, -ström, -qvist, ...): a name.
3. `Surname, Firstname` with both in the lexicons: a name.
A first name alone is not reported: "Per", "Bo" and "Siv" are also ordinary words or too vague.
"""

from __future__ import annotations

import bisect
import re
from importlib import resources
from typing import NamedTuple

from scanners import records
from scanners.arrays import np
from scanners.findings import Finding, ValueHasher
from scanners.hot import compiled as _hot

MIN_CONFIDENCE = 0.5  # as `TextDetector.min_confidence`


def _lexicon(filename: str) -> tuple[str, ...]:
    text = resources.files("scanners").joinpath("data", filename).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and line[0] != "#")


FIRST_NAMES = _lexicon("sv_first_names.txt")
SURNAMES = _lexicon("sv_surnames.txt")
_FIRST = frozenset(FIRST_NAMES)
_SURNAME = frozenset(SURNAMES)
_SURNAME_ENDINGS = (
    "son", "sson", "berg", "ström", "strom", "lund", "gren", "qvist", "quist", "kvist", "dahl",
    "holm", "blad", "lind", "ling", "ander", "man", "ell", "ius", "én", "ér", "stedt", "stam",
    "fors", "mark", "bäck", "sjö", "rot", "borg", "hag", "näs", "vall", "tröm", "lin",
)  # fmt: skip
_NOT_SURNAME = frozenset(
    (
        "AB",
        "HB",
        "KB",
        "Ltd",
        "Inc",
        "Sverige",
        "Sweden",
        "Stockholm",
        "Göteborg",
        "Malmö",
        "Uppsala",
        "Måndag",
        "Tisdag",
        "Onsdag",
        "Torsdag",
        "Fredag",
        "Lördag",
        "Söndag",
        "Januari",
        "Februari",
        "Mars",
        "April",
        "Maj",
        "Juni",
        "Juli",
        "Augusti",
        "September",
        "Oktober",
        "November",
        "December",
        "Och",
        "Med",
        "Har",
        "Som",
        "Till",
        "Från",
    )
)
_WORD = r"[A-ZÅÄÖÉÜ][a-zåäöéüß]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüß]+)?"
# Both patterns hold only where no word character or hyphen stands before them (`_search`).
# Two or three capitalised words: a lone one (most sentence starts) is never a name, and `re`
# skips it faster than a Python loop that looks at it (`find_names` would move on past its
# word, where no run can start).
_NAME_RUN = re.compile(rf"({_WORD})[ \t]+({_WORD})(?:[ \t]+({_WORD}))?(?![\w-])")
_INVERTED = re.compile(rf"({_WORD}),[ \t]+({_WORD})(?![\w-])")
_GLUED = re.compile(r"[\w-]")
_CUE = re.compile(
    r"(?:\b(?:namn|name|kund|kundnamn|customer|kontaktperson|kontakt|contact|patient|"
    r"elev|anställd|employee|sökande|applicant|mottagare|recipient|avsändare|sender|från|from|"
    r"till|to|handläggare|ansvarig|signerat|underskrift|attn|att)\s*:[ \t]*"
    r"|(?:med vänliga hälsningar|vänliga hälsningar|vänlig hälsning|hälsningar|mvh|"
    r"best regards|kind regards|regards|sincerely)[,!.]?\s*\n?[ \t]*)$",
    re.IGNORECASE,
)


class NameMatch(NamedTuple):
    """A person name found in text: character span, confidence, normalized form.

    A named tuple, not a frozen dataclass (1.5 us to build against 0.5): one per name found.
    """

    start: int
    end: int
    confidence: float
    normalized: str


# Every cue holds a colon or one of these (lower case); in text of Latin-1 letters nothing else
# matches them case-insensitively, so a window without any cannot end in a cue.
_CUE_MARKS = ("mvh", "hälsning", "regards", "sincerely")
_ASCII_MARKS = ("mvh", "regards", "sincerely")  # 'ä' is in no ASCII window


def _cue_before(text: str, lo: int, hi: int) -> bool:
    """Whether `text[lo:hi]` ends in a cue (`_CUE`); most windows are ruled out without it."""
    window = text[lo:hi]
    if ":" not in window:
        # str.isascii reads a flag of the string; max() scans it.
        marks = _ASCII_MARKS if window.isascii() else _CUE_MARKS if max(window) <= "\xff" else ()
        if marks:
            low = window.lower()
            if not any(mark in low for mark in marks):
                return False
    return _CUE.search(window) is not None


def _search(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str] | None:
    r"""`pattern.search` as if it began with the look-behind `(?<![\w-])`.

    Checked here, not in the pattern: a pattern that starts with a capital letter's class lets
    `re` skip to the next capital; one that starts with a look-behind is tried at every
    character, 4-6x slower (names ran at 25 MB/s on a mail log). The first match whose start
    passes is the one the look-behind pattern finds: it fails wherever this one fails, and
    matches the same way where the look-behind holds.
    """
    while True:
        m = pattern.search(text, pos)
        if m is None or not m.start() or _GLUED.match(text, m.start() - 1) is None:
            return m
        pos = m.start() + 1


def _surname_like(word: str) -> bool:
    if word in _NOT_SURNAME:
        return False
    if word in _SURNAME:
        return True
    low = word.lower()
    return any(low.endswith(e) for e in _SURNAME_ENDINGS) and len(word) > 4


def _match(text: str, m: re.Match[str]) -> NameMatch | None:
    words = [w for w in m.groups() if w]
    if len(words) < 2:  # a lone capitalised word is never a name (`_NAME_RUN` has none)
        return None
    start = m.start()
    if _cue_before(text, start - 40 if start > 40 else 0, start):
        return _span(m, len(words), 0.85)
    if words[0] not in _FIRST:
        return None
    # Anna Berg / Anna Maria Berg / Anna Berg Holm
    if len(words) == 3 and words[1] in _FIRST and _surname_like(words[2]):
        return _span(m, 3, 0.9)
    if _surname_like(words[1]):
        n = 3 if len(words) == 3 and _surname_like(words[2]) else 2
        return _span(m, n, 0.85 if words[1] in _SURNAME else 0.7)
    return None


def _span(m: re.Match[str], n: int, confidence: float) -> NameMatch:
    end = m.end(n)
    words = [w for w in m.groups()[:n] if w]
    return NameMatch(m.start(1), end, confidence, " ".join(words).lower())


def find_names(text: str) -> list[NameMatch]:
    """Person names in `text` by the rules in the module docstring, in text order.

    In C (`scanners._hot.find_names`) where built: `find_names_py` cost 4.7 us a name, and a
    register of customers holds one every 150 characters.
    """
    if _hot is None:
        return find_names_py(text)
    return _hot.find_names(  # type: ignore[no-any-return]
        text, _FIRST, _SURNAME, _NOT_SURNAME, _SURNAME_ENDINGS, _cue_before, NameMatch
    )


def find_names_py(text: str) -> list[NameMatch]:
    """`find_names` in Python: the patterns, the look-behind by hand, the lexicons."""
    found: list[NameMatch] = []
    pos = 0
    while True:
        m = _search(_NAME_RUN, text, pos)
        if m is None:
            break
        hit = _match(text, m)
        if hit is not None:
            found.append(hit)
            pos = hit.end
        else:
            pos = m.end(1)
    # `found` is in text order and without overlaps, so the name a position may lie in is the
    # last one starting at or before it (a scan of the whole list per match was quadratic:
    # seconds a megabyte on a customer register). finditer's matches never overlap each other.
    starts = [f.start for f in found]
    ends = [f.end for f in found]
    pos = 0
    while (m := _search(_INVERTED, text, pos)) is not None:
        pos = m.end()  # as finditer: matches never overlap (and are never empty)
        i = bisect.bisect_right(starts, m.start()) - 1
        inside = i >= 0 and m.start() < ends[i]
        if m.group(1) in _SURNAME and m.group(2) in _FIRST and not inside:
            found.append(NameMatch(m.start(), m.end(), 0.8, f"{m.group(2)} {m.group(1)}".lower()))
    found.sort(key=lambda f: f.start)
    return found


def name_findings(text: str, hasher: ValueHasher) -> list[Finding]:
    """`find_names` as findings: keyed digests, names of at least `MIN_CONFIDENCE` only.

    In C (`scanners._hot.findings_of_names`) where built, with the key's HMAC midstates.
    """
    found = find_names(text)
    if _hot is not None and isinstance(hasher, ValueHasher) and hasher._c_inner:
        return _hot.findings_of_names(  # type: ignore[no-any-return]
            found, "person_name", MIN_CONFIDENCE, hasher._c_inner, hasher._c_outer, Finding
        )
    return _name_findings_py(found, hasher)


def name_records(text: str, hasher: ValueHasher) -> np.ndarray:
    """`name_findings` as records (`scanners.records`), in text order.

    In C (`scanners._hot.find_name_records`) where built: a name then costs no row, no str
    and no hex digest (`find_names` and the digests of its rows took 0.79 us a name, 0.63 of
    them the rows).
    """
    if _hot is not None and isinstance(hasher, ValueHasher) and hasher._c_inner:
        return records.from_bytes(
            _hot.find_name_records(
                text, _FIRST, _SURNAME, _NOT_SURNAME, _SURNAME_ENDINGS, _cue_before,
                records.INDEX_OF["person_name"], MIN_CONFIDENCE,
                hasher._c_inner, hasher._c_outer,
            )
        )  # fmt: skip
    return records.of_findings(_name_findings_py(find_names(text), hasher))


def _name_findings_py(found: list[NameMatch], hasher: ValueHasher) -> list[Finding]:
    """`name_findings`'s loop in Python."""
    digest = hasher.digest
    return [
        Finding("person_name", n.start, n.end - n.start, n.confidence, digest(n.normalized))
        for n in found
        if n.confidence >= MIN_CONFIDENCE
    ]
