"""Candidates confirmed in C (`scanners/_confirm.c`) against the Python confirmation.

For personnummer forms, e-mail and IPv4 addresses and Swedish phone numbers in 8-bit text,
`Plan.confirm` is the C function and `Plan.confirm_py` the Python rule it stands for. Both are
asked about every position of fuzzed buffers built from the pieces that decide: valid and
broken numbers in the five forms, organisationsnummer, context and reference words across
clause ends, local parts and domains at the edges of the address rules, dotted quads with bad
octets and version-number tails, phone numbers in every written form with trailing counts and
leading digit groups, UTF-8 letters, random high bytes, control bytes, and sector boundaries
near the candidate. The answers must be equal, and both the C decisions and the hand-backs to
Python must occur, so the comparison cannot pass on one side alone.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import partial

import pytest

from scanners import context, hot
from scanners.candidate import C_WINDOWS, Plan
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher
from scanners.identifiers.luhn import luhn_valid
from scanners.patterns import compile_kinds

pytestmark = pytest.mark.skipif(not hot.COMPILED, reason="scanners._hot is not built")


def _plans() -> dict[str, Plan]:
    return {c.kind.name: Plan(c) for c in compile_kinds() if not c.wide}


def _check_digit(nine: str) -> str:
    return next(d for d in "0123456789" if luhn_valid(nine + d))


def _pnr(rng: random.Random) -> str:
    today = dt.date.today()
    if rng.random() < 0.1:  # born within days of today: the future-date rule decides
        born = today + dt.timedelta(days=rng.randint(-3, 3))
    else:
        born = dt.date(rng.randint(1880, today.year), rng.randint(1, 12), rng.randint(1, 28))
    day = born.day + (60 if rng.random() < 0.2 else 0)
    serial = rng.choice(["000", f"{rng.randint(0, 999):03d}"])
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
    body = nine + (_check_digit(nine) if rng.random() < 0.9 else rng.choice("0123456789"))
    century = f"{born.year // 100:02d}" if rng.random() < 0.9 else rng.choice(["17", "21"])
    sep = rng.choice("-+-+-x")
    forms = [body, body[:6] + sep + body[6:], century + body, century + body[:6] + sep + body[6:]]
    if rng.random() < 0.15:  # an organisationsnummer, with or without the 16 prefix
        org = f"{rng.randint(2, 9)}{rng.randint(20, 99)}{rng.randint(0, 999999):06d}"
        org = org[:9] + _check_digit(org[:9])
        forms += [org[:6] + "-" + org[6:], "16" + org, "16" + org[:6] + "-" + org[6:]]
    return rng.choice(forms)


_LOCAL = "abcXYZ019.!#$%&'*+/=?^_`{|}~-"
_LABEL = "abcdefghxyzABCXYZ0189-"


def _email(rng: random.Random) -> str:
    local = "".join(rng.choice(_LOCAL) for _ in range(rng.choice([1, 3, 8, 20, 70])))
    if rng.random() < 0.2:
        local = (
            rng.choice(["jörgen", "ann.ö", "\xc3", "..a", "a..b", "a."]).encode().decode("latin-1")
        )
    labels = [
        "".join(rng.choice(_LABEL) for _ in range(rng.choice([1, 2, 5, 30, 64])))
        for _ in range(rng.randint(1, 4))
    ]
    tld = rng.choice(
        ["se", "com", "Com", "COM", "cOm", "xn--p1ai", "xn--", "s", "a" * 25, "museum", "c0m", ""]
    )
    if rng.random() < 0.1:
        labels.insert(1, rng.choice(["xn--rksmrgs-5wao1o", "a--b", "räksmörgås", ""]))
    domain = ".".join([*labels, tld])
    if rng.random() < 0.1:
        domain = domain.replace(".", "..", 1)
    return local + "@" + domain


def _ipv4(rng: random.Random) -> str:
    octet = [str(rng.randint(0, 255)), "0", "255", "127", "256", "999", "01", "1000", "10"]
    quad = ".".join(
        str(rng.randint(1, 254)) if rng.random() < 0.8 else rng.choice(octet)
        for _ in range(rng.choice([4, 4, 4, 3, 5]))
    )
    return quad + rng.choice(["", "", ".", ".5", ".\xb2", "\xb3", ":25", "/24"])


def _phone(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 11)))
    area = rng.choice(
        ["8", "31", "40", "70", "72", "73", "76", "79", "90", "1", "20", "99", "74", "75", "77"]
        + ["123", "8123"]
    )
    forms = [
        f"0{area}{digits}",
        f"0{area}-{digits[:3]} {digits[3:5]} {digits[5:]}",
        f"0{area} {digits[:2]}-{digits[2:]}",
        f"(0{area}) {digits[:3]} {digits[3:]}",
        f"(0{area}){digits}",
        f"(0{area}) {digits[:2]} {digits[2:4]} {digits[4:]}",
        f"0{area}-{digits[:3]} {digits[3:5]} {digits[5:7]} {rng.randint(1, 9)} st",
        f"0{digits[:5]}-{digits[5:9]}",
        f"12 34 0{area}-{digits}",
    ]
    return rng.choice(forms)


_WORDS = [
    "personnummer", "Pnr", "PERSONNR:", "pers.nr", "födelsenummer", "f\xc3\xb6delsenummer",
    "ssn", "order", "Faktura", "ref.", "invoice no", "org.nr", "e-post", "mail", "kund",
    "IP", "host", "Server:", "from", "version", "dns", "\xa0", "\xad", "Tel:", "mobil",
    "telefonnummer", "v\xc3\xa4xel", "fax",
]  # fmt: skip
_GLUE = [" ", ": ", "\n", "\t", ". ", "; ", "? ", ",", "", "(", ")", "<", ">", "'", '"', "=", "/"]
_NOISE = ["\x00", "\x01\x02", "\x7f", "\xff\xfe", "\xc3\xa5", "\xe2\x82\xac", "\x80\x81\x82"]


def _buffer(rng: random.Random) -> bytes:
    parts: list[str] = []
    for _ in range(rng.randint(3, 14)):
        r = rng.random()
        if r < 0.18:
            parts.append(_pnr(rng))
        elif r < 0.36:
            parts.append(_email(rng))
        elif r < 0.45:
            parts.append(_ipv4(rng))
        elif r < 0.55:
            parts.append(_phone(rng))
        elif r < 0.72:
            parts.append(rng.choice(_WORDS))
        elif r < 0.8:
            parts.append("".join(rng.choice(_NOISE) for _ in range(rng.randint(1, 12))))
        elif r < 0.9:
            parts.append("".join(chr(rng.randrange(256)) for _ in range(rng.randint(1, 40))))
        else:
            parts.append("Lorem ipsum dolor sit amet, " * rng.randint(1, 3))
        parts.append(rng.choice(_GLUE))
    return "".join(parts).encode("latin-1")


def _counting(plan: Plan, kind: str) -> list[int]:
    """Make `plan.confirm` count its hand-backs to Python in the returned list."""
    calls = [0]

    def fallback(*args: object) -> object:
        calls[0] += 1
        return plan.confirm_py(*args)  # type: ignore[arg-type]

    plan.confirm = plan.in_c(kind, fallback)  # type: ignore[assignment]
    return calls


def test_the_c_windows_are_the_python_rules() -> None:
    """The C confirmations run only while their windows are the Python rules' own."""
    assert hot.compiled.CONFIRM_WINDOWS == C_WINDOWS


@pytest.mark.parametrize("kind", ["pnr_form", "email", "ipv4", "phone_nat"])
def test_c_confirmation_equals_python(kind: str) -> None:
    plan = _plans()[kind]
    assert isinstance(plan.confirm, partial), "the C confirmation is in use"
    handed_back = _counting(plan, kind)
    rng = random.Random(kind)
    accepted = rejected = 0
    for _ in range(3000):
        buf = _buffer(rng)
        origin = rng.choice([None, 0, rng.randrange(1 << 20)])
        view = memoryview(bytearray(buf)) if rng.random() < 0.3 else buf
        for start in range(len(buf)):
            got = plan.confirm(view, start, origin)
            want = plan.confirm_py(view, start, origin)
            assert got == want, (kind, buf, start, origin)
            accepted += got is not None
            rejected += got is None
    assert accepted > 500
    assert rejected > 100_000
    # Both sides decide: C most candidates, Python some.
    assert 100 < handed_back[0] < (accepted + rejected) / 100


def test_c_confirmation_categories_and_forms() -> None:
    """Fixed cases: each form, the keyword boost, the reference veto, an address's span."""
    plans = _plans()
    pnr, email = plans["pnr_form"].confirm, plans["email"].confirm
    buf = b"Personnummer: 19811218-9876"
    assert pnr(buf, 14, None) == ("personnummer", 0.9875, "198112189876", 14, 27)
    buf = b"Kund 1, order 811218-9876. x 811278-9873 y"
    assert pnr(buf, 14, None) is None  # a reference word before a weak form
    assert pnr(buf, 29, None) == ("samordningsnummer", 0.85, "198112789873", 29, 40)
    buf = b"Skriv till John.Smith@Example.Com idag"
    assert email(buf, 20, None) == ("email", 0.95, "john.smith@example.com", 11, 33)
    assert email(b"x Q@E.xR y", 2, None) is None  # a top-level domain in mixed case
    for length, valid in ((253, True), (254, False)):  # RFC 5321's longest domain
        domain = ("a" * 63 + ".") * 3 + "b" * (length - 195) + ".se"
        buf = f"mail x@{domain} ".encode()
        assert len(domain) == length
        assert (
            (email(buf, 5, None) is not None)
            == valid
            == (plans["email"].confirm_py(buf, 5, None) is not None)
        )
    # UTF-8 local part and IDN domain: the Python rule decides, through the C function
    buf = "till jörgen@räksmörgås.se".encode()
    at = buf.index(b"@") - 1
    assert email(buf, at, None) == plans["email"].confirm_py(buf, at, None)
    assert email(buf, at, None)[2] == "jörgen@räksmörgås.se"


def test_c_confirmation_phone_prefix() -> None:
    """A number that is valid only up to a space 7 characters in is too short to count."""
    plan = _plans()["phone_nat"]
    for buf, kept in ((b"Tel 0201234 5678 .", False), (b"Tel 02012345 678 .", True)):
        assert (plan.confirm(buf, 4, None) is not None) == kept
        assert plan.confirm(buf, 4, None) == plan.confirm_py(buf, 4, None)


def test_c_confirmation_ipv4_edges() -> None:
    """Among binary bytes only an IP word and printable edges keep an address; a soft hyphen
    (0xAD) is not printable."""
    plan = _plans()["ipv4"]
    noise = bytes(range(0x80, 0x90))
    for edge, kept in ((b" ", True), (b"\xad", False)):
        buf = noise + b" ip" + edge + b"192.0.2.1 " + bytes(range(0x90, 0xA0))
        at = buf.index(b"192")
        assert (plan.confirm(buf, at, None) is not None) == kept
        assert plan.confirm(buf, at, None) == plan.confirm_py(buf, at, None)


def test_c_text_check_equals_python() -> None:
    rng = random.Random(7)
    pieces = [
        "abc def ",
        "\xc3\xa5\xc3\xa4",
        "\x00",
        "\x7f\x7f",
        "\xff",
        "\n",
        "\t",
        "\xe2\x82\xac",
    ]
    seen = set()
    for _ in range(30_000):
        sides = []
        for _ in range(2):
            if rng.random() < 0.5:
                text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
            else:
                text = "".join(chr(rng.randrange(256)) for _ in range(rng.randint(0, 30)))
            sides.append(text)
        before, after = sides
        want = context.textual(before, after)
        assert hot.compiled.textual(before.encode("latin-1"), after.encode("latin-1")) == want, (
            before,
            after,
        )
        seen.add(want)
    assert seen == {True, False}


def test_c_order_of_starts_equals_python() -> None:
    """`RawMatcher._starts` (C ordering) equals `_starts_py` on fuzzed pages: shifted phone
    patterns (one at offset 0), gate words with bare ten-digit numbers, repeats."""
    matcher = RawMatcher(ValueHasher(b"k" * 32))
    rng = random.Random(11)
    at_zero = gated = 0
    for n in range(400):
        buf = _buffer(rng)
        if n % 4 == 0:
            buf = b"070-123 45 67 ring" + buf
        if n % 3 == 0:
            buf += b" personnummer " + str(rng.randrange(10**10)).zfill(10).encode() + b" pnr"
        buf = buf * rng.choice([1, 1, 3])
        got, want = matcher._starts(buf), matcher._starts_py(buf)
        assert got == want, buf
        at_zero += any(s == 0 and matcher._shift[i] for s, i in got)
        gated += any(matcher._compiled[i].kind.gate for _, i in got)
    assert at_zero > 50
    assert gated > 50
