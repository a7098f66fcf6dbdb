"""`identifiers.digitdfa`: digit expressions as automata, against `re.fullmatch` as the oracle.

The oracle is Python's own engine on libphonenumber's metadata: the Swedish pattern the raw
path asks, and every region's number-type patterns, which we did not write. Strings come from
each pattern's example numbers changed one digit at a time, cut short and made long (the
accepted numbers and their nearest misses), and from exhaustive short strings.
"""

from __future__ import annotations

import itertools
import random
import re

import pytest
from phonenumbers import PhoneMetadata
from phonenumbers.phonemetadata import PhoneMetadata as _Meta

from scanners.identifiers import digitdfa, phone

_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
          "voip", "pager", "uan", "voicemail")  # fmt: skip


def _near(example: str, rng: random.Random) -> list[str]:
    """The example, each one-digit change of it, its prefixes, and it with digits added."""
    out = [example]
    for i in range(len(example)):
        out += [example[:i] + d + example[i + 1 :] for d in "0123456789"]
    out += [example[:i] for i in range(len(example))]
    out += [example + "".join(rng.choice("0123456789") for _ in range(k)) for k in (1, 2, 3)]
    return out


def _regions() -> list[str]:
    PhoneMetadata.load_all()
    return sorted(_Meta._region_metadata)


def test_the_swedish_automaton_equals_the_metadata_pattern() -> None:
    table = phone.national_table()
    assert table, "the Swedish patterns compile to an automaton"
    rng = random.Random(46)
    tried = accepted = 0
    strings = ("".join(p) for n in range(6) for p in itertools.product("0123456789", repeat=n))
    for digits in strings:  # every string of up to five digits
        want = phone.national_number_match(digits) is not None
        assert digitdfa.accepts(table, digits) == want, digits
        tried += 1
    for prefix in range(10_000):  # every four-digit start, every length a number may have
        for length in range(5, 14):
            digits = f"{prefix:04d}" + "".join(rng.choice("0123456789") for _ in range(length - 4))
            want = phone.national_number_match(digits) is not None
            assert digitdfa.accepts(table, digits) == want, digits
            tried += 1
            accepted += want
    assert tried > 200_000
    assert accepted > 5_000


def test_every_regions_number_patterns() -> None:
    """Expressions we did not write: each region's number-type patterns, near their examples."""
    rng = random.Random(7)
    patterns = compared = accepted = 0
    for region in _regions():
        meta = PhoneMetadata.metadata_for_region(region)
        for name in _TYPES:
            desc = getattr(meta, name, None)
            if desc is None or not desc.national_number_pattern or not desc.example_number:
                continue
            pattern = desc.national_number_pattern
            table = digitdfa.compile_digits(pattern)
            oracle = re.compile(pattern)
            for digits in _near(desc.example_number, rng):
                want = oracle.fullmatch(digits) is not None
                assert digitdfa.accepts(table, digits) == want, (region, name, digits)
                compared += 1
                accepted += want
            patterns += 1
    assert patterns > 500
    assert compared > 100_000
    assert accepted > 5_000


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?=1)\d",
        r"^1",
        r"1$",
        r".",
        r"\w",
        r"(1)\1",
        r"\b1",
        r"[^\W]",
        r"(?>1)",
        r"1*+",
        r"(?:(?:(?:\d{0,99}){0,99}){0,99})",
    ],  # the last: a million states; refused at once
)
def test_what_is_not_a_digit_expression_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        digitdfa.compile_digits(pattern)


def test_repeats_and_classes() -> None:
    """Open and bounded repeats, lazy ones, negated classes, letters that never match."""
    rng = random.Random(3)
    for pattern in [r"1\d*2", r"(?:12|3)+4?", r"[^13-5]{2,3}", r"0{0,2}9*?", r"a|12", r"[a1]"]:
        table, oracle = digitdfa.compile_digits(pattern), re.compile(pattern)
        for n in range(7):
            for _ in range(300):
                digits = "".join(rng.choice("0123459") for _ in range(n))
                assert digitdfa.accepts(table, digits) == (oracle.fullmatch(digits) is not None)
