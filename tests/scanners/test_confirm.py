"""Candidates confirmed in C (`scanners/_confirm.c`) against the Python confirmation.

For personnummer and organisationsnummer forms, e-mail and IPv4 addresses, Swedish phone
numbers, payment cards, IBANs, bankgiro numbers and bare ten-digit numbers in 8-bit text,
`Plan.confirm` is the C function and `Plan.confirm_py` the Python rule it stands for. Both are
asked about every position of fuzzed buffers built from the pieces that decide: valid and broken
numbers in the five forms, organisationsnummer forms, context and reference words across clause
ends, local parts and domains at the edges of the address rules, dotted quads with bad octets
and version-number tails, phone numbers in every written form with trailing counts and leading
digit groups, card numbers of every issuer prefix and length (bare, grouped, glued to digits or
letters, one digit repeated, long digit runs), IBANs of every country (valid, broken check
digits, a changed character, cut short or made long, in groups, lower case, a word glued on),
bankgiro and ten-digit numbers with and without their words, UTF-8 letters, random high bytes,
control bytes, and sector boundaries near the candidate. The answers must be equal, and both the
C decisions and the hand-backs to Python must occur (for the kinds that hand any back), so the
comparison cannot pass on one side alone.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from scanners import candidate, context, hot
from scanners.candidate import C_WINDOWS, Plan
from scanners.fastpath import RawMatcher
from scanners.findings import Finding, ValueHasher
from scanners.identifiers import card, iban, phone
from scanners.identifiers.luhn import luhn_check_digit, luhn_valid
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


_ORG_WORDS = [
    "Organisationsnummer:", "org.nr", "Org nr", "orgnr", "VAT", "momsreg.nr", "company number",
    "org.-nr", "order", "Faktura nr", "pnr", "Personnummer", "kund",
]  # fmt: skip


def _orgnr(rng: random.Random) -> str:
    """An organisationsnummer or a personnummer in a structured form, with words around it."""
    if rng.random() < 0.3:
        value = _pnr(rng)
    else:
        nine = f"{rng.randint(0, 9)}{rng.choice([rng.randint(0, 9), 2])}{rng.randint(0, 9)}"
        ten = _luhn(rng, nine + _digits(rng, 6)) if rng.random() < 0.9 else nine + _digits(rng, 7)
        forms = [ten[:6] + "-" + ten[6:], ten[:6] + "+" + ten[6:], "16" + ten]
        forms += ["16" + ten[:6] + "-" + ten[6:], "16" + ten[:6] + "+" + ten[6:]]
        value = rng.choice(forms)
    before = rng.choice(["", "", f"{rng.choice(_ORG_WORDS)}{rng.choice(_GLUE)}"])
    after = rng.choice(["", "", "", f" ({rng.choice(_ORG_WORDS)})", ". Org.nr", "; pnr"])
    return before + value + after


def _dig10(rng: random.Random) -> str:
    """Ten bare digits (a personnummer, an organisationsnummer, neither; a run of 9 or 11), with
    personnummer, organisationsnummer or reference words around them or none."""
    r = rng.random()
    if r < 0.4:
        value = "".join(ch for ch in _pnr(rng) if ch.isdigit())[-10:]
    elif r < 0.8:
        value = "".join(ch for ch in _orgnr(rng) if ch.isdigit())[-10:]
    else:
        value = _digits(rng, rng.choice([9, 10, 10, 11]))
    before = rng.choice(["", f"{rng.choice(_ORG_WORDS)}{rng.choice(_GLUE)}"])
    after = rng.choice(["", "", f" ({rng.choice(_ORG_WORDS)})", "x", "\n"])
    return before + value + after


_GIRO_WORDS = ["Bankgiro:", "BG", "bg-nr", "bankgironummer", "Bankgiro nr", "plusgiro", "bgc"]


def _bankgiro(rng: random.Random) -> str:
    """A bankgiro number (Luhn or not, first part of 2-5 digits), with or without its words."""
    digits = _luhn(rng, _digits(rng, rng.choice([6, 7, 7, 6, 5, 8])))
    cut = len(digits) - 4
    value = digits[:cut] + rng.choice("---- ") + digits[cut:] + rng.choice(["", "", "0", "-1"])
    before = rng.choice(["", f"{rng.choice(_GIRO_WORDS)}{rng.choice(_GLUE)}"])
    after = rng.choice(["", "", f" ({rng.choice(_GIRO_WORDS)})", " bg", ". BG"])
    return before + value + after


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


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _luhn(rng: random.Random, head: str) -> str:
    """`head` and its Luhn check digit, or now and then a random last digit."""
    return head + (luhn_check_digit(head) if rng.random() < 0.8 else rng.choice("0123456789"))


def _grouped(rng: random.Random, digits: str, sizes: list[int]) -> str:
    """`digits` cut into groups of `sizes` (the rest last) with spaces or hyphens between."""
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    groups.append(digits[at:])
    out = groups[0]
    sep = rng.choice(" -")
    for g in groups[1:]:
        if g:
            out += (sep if rng.random() < 0.9 else rng.choice(" -")) + g
    return out


def _card(rng: random.Random) -> str:
    """A card number of any scheme and length, bare or in groups, with its neighbours."""
    prefixes, width, lengths = rng.choice(card._SCHEMES)
    if rng.random() < 0.15:  # no scheme, or a length the scheme does not have
        head, length = rng.choice(["0", "7", "9", "35", "2", "4", "5"]), rng.randint(12, 20)
    else:
        head, length = str(rng.choice(prefixes)), rng.choice(sorted(lengths))
    digits = _luhn(rng, head + _digits(rng, max(0, length - len(head) - 1)))
    r = rng.random()
    if r < 0.05:  # one digit repeated: Luhn-valid for some lengths, never a card
        digits = rng.choice("0123456789") * rng.randint(12, 20)
    elif r < 0.1:  # a long run of digits
        digits = _digits(rng, rng.randint(20, 40))
    shapes = [[], [4, 4, 4], [4, 6], [4, 5], [4, 4, 4, 4], [4, 4], [3, 4, 4, 4], [4, 6, 4]]
    value = _grouped(rng, digits, rng.choice(shapes))
    tail = rng.choice(["", "", "", "a", "X", "5", " 12", "-1234", " 1234", "\xe9", ".", "/"])
    words = ["kort", "Visa:", "CVC", "Kortnummer", "credit card", "k\xc3\xb6p"]
    head = rng.choice(["", "", "", "1", "-", f"{rng.choice(words)}{rng.choice(_GLUE)}"])
    return head + value + tail


# IBANs, among them of the countries with a national check (NO, BE, ES, ME).
_IBANS = [
    "SE4550000000058398257466", "SE3550000000054910000003", "GB29NWBK60161331926819",
    "DE89370400440532013000", "NO9386011117947", "BE71096123456769", "ES9121000418450200051332",
    "FR1420041010050500013M02606", "ME25505000012345678951", "MT84MALT011000012345MTLCAST001S",
    "NL91ABNA0417164300", "FI2112345600000785", "DK5000400440116243",
    "BE68539007547034",  # mod 97 passes, the Belgian check does not
]  # fmt: skip
_STRUCTURES = iban.structure_table()


def _iban_number(rng: random.Random) -> str:
    """A compact IBAN: a valid one, or a country's BBAN shape filled at random with the check
    digits that make mod 97 pass (random BBANs mostly fail a national check)."""
    if rng.random() < 0.5:
        return rng.choice(_IBANS)
    while True:
        code = rng.randrange(26 * 26)
        record = _STRUCTURES[code * iban.RECORD : (code + 1) * iban.RECORD]
        if record[0]:
            break
    country = chr(65 + code // 26) + chr(65 + code % 26)
    pick = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCXYZ"}
    bban = "".join(rng.choice(pick[chr(c)]) for c in record[2 : 2 + record[0]])
    check = 98 - iban._mod97_py(country + "00" + bban)
    return f"{country}{check:02d}{bban}"


def _iban(rng: random.Random) -> str:
    """An IBAN written compact or in groups, broken or not, with what may follow it."""
    number = _iban_number(rng)
    r = rng.random()
    if r < 0.1:  # broken check digits
        check = rng.choice(["00", "01", "99", f"{rng.randint(2, 98):02d}"])
        number = number[:2] + check + number[4:]
    elif r < 0.2:  # one character changed
        at = rng.randrange(4, len(number))
        number = number[:at] + rng.choice("0123456789AZ") + number[at + 1 :]
    elif r < 0.25:  # cut short or made long
        number = number[: rng.randint(12, len(number))] + _digits(rng, rng.choice([0, 0, 8, 14]))
    if rng.random() < 0.6:
        number = _grouped(rng, number, [4] * 8)
    if rng.random() < 0.1:
        number = number.lower() if rng.random() < 0.5 else number[:6] + number[6:].lower()
    tail = rng.choice(["", "", "", " SEK", "SEK", " EUR.", "x", "1", " 12", "-AB", "\n", ", "])
    head = rng.choice(["", "", "IBAN ", "IBAN:", "A", "1", "konto "])
    return head + number + tail


_WORDS = [
    "personnummer", "Pnr", "PERSONNR:", "pers.nr", "födelsenummer", "f\xc3\xb6delsenummer",
    "ssn", "order", "Faktura", "ref.", "invoice no", "org.nr", "e-post", "mail", "kund",
    "IP", "host", "Server:", "from", "version", "dns", "\xa0", "\xad", "Tel:", "mobil",
    "telefonnummer", "v\xc3\xa4xel", "fax",
]  # fmt: skip
_GLUE = [" ", ": ", "\n", "\t", ". ", "; ", "? ", ",", "", "(", ")", "<", ">", "'", '"', "=", "/"]
_NOISE = ["\x00", "\x01\x02", "\x7f", "\xff\xfe", "\xc3\xa5", "\xe2\x82\xac", "\x80\x81\x82"]


def _buffer(rng: random.Random, own: Callable[[random.Random], str] | None = None) -> bytes:
    """Pieces of every kind, glued; a third of them by `own` (a kind's generator) when given."""
    parts: list[str] = []
    for _ in range(rng.randint(3, 14)):
        if own is not None and rng.random() < 0.35:
            parts.append(own(rng))
            parts.append(rng.choice(_GLUE))
            continue
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


# The kinds' own generators (none: the common pieces hold enough of the kind), and what the
# fuzzing must give: at least so many accepted values; hand-backs to Python between the bounds,
# as a share of all candidates (0: the C code decides every candidate of the kind).
_OWN: dict[str, tuple[Callable[[random.Random], str] | None, int, float, float]] = {
    # Rejections near a sector boundary are judged again in C from the boundary when ASCII text
    # lies between; past ASCII (UTF-8 to decode) they go back to Python. Personnummer forms
    # hand back only such rejections for a reference word.
    "pnr_form": (_orgnr, 3000, 3, 0.001),
    "email": (None, 500, 100, 0.01),
    "ipv4": (None, 500, 40, 0.01),
    "phone_nat": (None, 500, 40, 0.01),
    # A card's rule reads only the core: rejections need no second try, nothing goes back.
    "card": (_card, 1200, 0, 0),
    # Nor an IBAN's.
    "iban": (_iban, 1500, 0, 0),
    # Bankgiro numbers: vetoed by their words or the text check, near a sector boundary.
    "bankgiro": (_bankgiro, 1000, 20, 0.01),
    # Bare ten digits: rejected for want of a word near a sector boundary.
    "dig10": (_dig10, 1000, 20, 0.01),
}


@pytest.mark.parametrize("kind", list(_OWN))
def test_c_confirmation_equals_python(kind: str) -> None:
    own, min_accepted, min_handed, max_handed = _OWN[kind]
    plan = _plans()[kind]
    assert isinstance(plan.confirm, partial), "the C confirmation is in use"
    handed_back = _counting(plan, kind)
    rng = random.Random(kind)
    accepted = rejected = 0
    for _ in range(3000):
        buf = _buffer(rng, own)
        origin = rng.choice([None, 0, rng.randrange(1 << 20)])
        view = memoryview(bytearray(buf)) if rng.random() < 0.3 else buf
        for start in range(len(buf)):
            got = plan.confirm(view, start, origin)
            want = plan.confirm_py(view, start, origin)
            assert got == want, (kind, buf, start, origin)
            accepted += got is not None
            rejected += got is None
    assert accepted > min_accepted
    assert rejected > 100_000
    # Both sides decide: C most candidates, Python some (or none, for kinds C reads whole).
    if max_handed:
        assert min_handed < handed_back[0] < (accepted + rejected) * max_handed
    else:
        assert handed_back[0] == 0


def test_rejections_at_a_sector_boundary_are_judged_again_in_c() -> None:
    """A bare number rejected for want of a word is judged again from the sector boundary
    before it (a file's data starts there): in C where ASCII text lies between (or other
    bytes, which are no text), in Python past ASCII; either way as `confirm_py` decides."""
    plan = _plans()["phone_nat"]
    handed_back = _counting(plan, "phone_nat")
    for lead, handed in ((b"nr x ", 0), (b"nr \xc3\xa4 ", 1), (b"nr\x01 ", 0), (b"", 0)):
        buf = b"x" * 40 + lead + b"0811234567 ok"
        start = buf.index(b"0811234567")
        # The boundary before `lead`, at the value, none.
        for origin, back in ((512 - 40, handed), (512 - start, 0), (None, 0)):
            before = handed_back[0]
            assert plan.confirm(buf, start, origin) is None
            assert plan.confirm_py(buf, start, origin) is None
            assert handed_back[0] - before == back, (lead, origin)


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


def test_phone_automaton_equals_the_python_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The C phone rule walks the metadata's automaton (`phone.national_table`) and calls no
    Python; without the table it asks `phone.national_number_match`. Both decide alike."""
    asked = [0]

    def check(digits: str) -> object:
        asked[0] += 1
        return phone.national_number_match(digits)

    kind = candidate._IN_C["phone_nat"]
    monkeypatch.setitem(candidate._IN_C, "phone_nat", kind._replace(check=check))
    with_table = _plans()["phone_nat"]
    monkeypatch.setitem(candidate._IN_C, "phone_nat", kind._replace(check=check, table=None))
    without = _plans()["phone_nat"]
    rng = random.Random(46)
    accepted = 0
    for _ in range(1500):
        buf = _buffer(rng, _phone)
        for start in range(len(buf)):
            before = asked[0]
            got = with_table.confirm(buf, start, None)
            assert asked[0] == before, "the automaton asked Python"
            assert got == without.confirm(buf, start, None), (buf, start)
            accepted += got is not None
    assert accepted > 1000
    assert asked[0] > 1000  # the path without the table was taken


@pytest.mark.parametrize(("kind", "own"), [("card", _card), ("iban", _iban), ("phone_nat", _phone)])
def test_a_table_the_library_cannot_give_leaves_the_rule_to_python(
    kind: str, own: Callable[[random.Random], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer stdnum or libphonenumber whose data no longer reads into the kind's C table (the
    table maker raises ValueError): the kind is still confirmed, through C asking Python, with
    the same decisions. It used to stop every matcher from being built."""

    def unreadable() -> bytes:
        raise ValueError("a structure not read")

    monkeypatch.setitem(candidate._IN_C, kind, candidate._IN_C[kind]._replace(table=unreadable))
    plan = _plans()[kind]
    assert isinstance(plan.confirm, partial)
    rng = random.Random(kind)
    accepted = 0
    for _ in range(300):
        buf = _buffer(rng, own)
        for start in range(len(buf)):
            got = plan.confirm(buf, start, None)
            assert got == plan.confirm_py(buf, start, None), (buf, start)
            accepted += got is not None
    assert accepted > 50


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


def test_c_confirmation_cards() -> None:
    """A card's confidence: bare or grouped, a card word near; the IIN table and the veto."""
    confirm = _plans()["card"].confirm
    assert confirm(b"x 4111111111111111 y", 2, None) == (
        "payment_card", 0.7, "4111111111111111", 2, 18,
    )  # fmt: skip
    buf = b"Kort: 4111 1111-1111 1111."
    assert confirm(buf, 6, None) == ("payment_card", 0.9625, "4111111111111111", 6, 25)
    assert confirm(b"4111111111111111a", 0, None) is None  # glued to a word
    assert confirm(b"1" + b"4111111111111111", 1, None) is None  # inside a longer number
    assert confirm(b"0000000000000 ", 0, None) is None  # Luhn-valid, no scheme
    assert confirm(b"6666666666666 ", 0, None) is None  # one digit repeated (Luhn-valid)
    # Amex is 15 digits only
    assert confirm(b"378282246310005 ", 0, None) is not None
    assert confirm(b"3782822463100003 ", 0, None) is None


def test_c_confirmation_ibans() -> None:
    """The longest valid prefix of an IBAN candidate; the country's structure and check."""
    plan = _plans()["iban"]
    buf = b"IBAN SE45 5000 0000 0583 9825 7466 SEK 12"
    assert plan.confirm(buf, 5, None) == ("iban", 0.95, "SE4550000000058398257466", 5, 34)
    buf = b"IBAN SE45 5000 0000 0583 9825 7466SEK."  # a word glued on: the prefix before it
    assert plan.confirm(buf, 5, None) == ("iban", 0.95, "SE4550000000058398257466", 5, 34)
    # A lower-case word glued on: the core is given back to `SE45 5000 0000 0583`
    buf = b"SE45 5000 0000 0583 9825 7466sek"
    assert plan.confirm(buf, 0, None) is None is plan.confirm_py(buf, 0, None)
    # Mod 97 passes in each; the Belgian check, a BBAN too long for Sweden, a letter where
    # Sweden has digits do not.
    for value in (b"BE68539007547034", b"SE35500000000549100000031", b"SE4550000000058398257A66"):
        assert plan.confirm(value + b" ", 0, None) == plan.confirm_py(value + b" ", 0, None)
    assert plan.confirm(b"BE71096123456769 ", 0, None) is not None
    assert plan.confirm(b"BE68539007547034 ", 0, None) is None


def test_c_confirmation_organisationsnummer() -> None:
    """The organisationsnummer readings of personnummer forms, with and without their words."""
    plan = _plans()["pnr_form"]
    cases = {
        b"x 556036-0793 y": ("organisationsnummer", 0.7, "5560360793", 2, 13),
        b"Org.nr 556036-0793": ("organisationsnummer", 0.925, "5560360793", 7, 18),
        b"x 165560360793 y": ("organisationsnummer", 0.75, "5560360793", 2, 14),
        b"x 16556036-0793 (orgnr)": ("organisationsnummer", 0.95, "5560360793", 2, 15),
        b"x 556036+0793 y": None,  # `+` is no organisationsnummer separator
        b"x 456036-0793 y": None,  # no legal form 4
        b"x 556036-0794 y": None,  # Luhn
    }
    for buf, want in cases.items():
        at = 2 if buf.startswith(b"x") else 7
        assert plan.confirm(buf, at, None) == want == plan.confirm_py(buf, at, None), buf


def test_c_confirmation_bankgiro() -> None:
    """A bankgiro number counts beside its word, in text, with its Luhn digit."""
    plan = _plans()["bankgiro"]
    cases = {
        b"Bankgiro: 5050-1055.": ("bankgiro", 0.9, "50501055", 10, 19),
        b"Betala till 5050-1055 (bg)": ("bankgiro", 0.9, "50501055", 12, 21),
        b"Betala till 5050-1055 idag": None,  # no word
        b"Bankgiro: 5050-1056.": None,  # Luhn
        b"Bankgiro: 5050-10555": None,  # no core
        b"\x80\x91\xfe\xc7\x99BG 5050-1055\x8a\xff\xee\x81\x90\xa0": None,  # among random bytes
    }
    for buf, want in cases.items():
        at = buf.index(b"5050")
        assert plan.confirm(buf, at, None) == want == plan.confirm_py(buf, at, None), buf


def test_c_confirmation_dig10() -> None:
    """Bare ten digits: a personnummer or an organisationsnummer only beside its own words."""
    plan = _plans()["dig10"]
    cases = {
        b"Personnummer 8112189876.": ("personnummer", 0.95, "198112189876", 13, 23),
        b"org.nr 5560360793 ": ("organisationsnummer", 0.95, "5560360793", 7, 17),
        b"pnr    5560360793 ": None,  # an organisationsnummer beside a personnummer word
        b"Ring   8112189876 ": None,  # no word
        b"pnr    81121898765": None,  # eleven digits
    }
    for buf, want in cases.items():
        at = 13 if buf.startswith(b"P") else 7
        assert plan.confirm(buf, at, None) == want == plan.confirm_py(buf, at, None), buf


def _matchers(key: bytes, some: list[str]) -> list[RawMatcher]:
    """Matchers of all categories, of `some`, and with a floor that drops some values."""
    hasher = ValueHasher(key)
    return [RawMatcher(hasher), RawMatcher(hasher, some), RawMatcher(hasher, min_confidence=0.9)]


def _scans_agree(
    rng: random.Random, matchers: list[RawMatcher], attr: str, off: Callable[[RawMatcher], object]
) -> Iterator[tuple[bytes, bytes | memoryview, int]]:
    """1,500 fuzzed buffers of every kind (bytes and memoryviews, bases near sector boundaries),
    each matched by every matcher as it is and with `attr` set to `off(matcher)`: the findings
    must be equal. Yields each buffer, as bytes and as matched, and the findings compared."""
    for _ in range(1500):
        data = b"\n".join(_buffer(rng) for _ in range(rng.randint(1, 6)))
        view = memoryview(bytearray(data)) if rng.random() < 0.3 else data
        base = rng.choice([0, 1 << 20, rng.randrange(1 << 30), 512 * rng.randrange(1 << 20) - 3])
        compared = 0
        for matcher in matchers:
            as_is = matcher.scan(view, base)
            saved = getattr(matcher, attr)
            setattr(matcher, attr, off(matcher))
            try:
                assert matcher.scan(view, base) == as_is, data
            finally:
                setattr(matcher, attr, saved)
            compared += len(as_is)
        yield data, view, compared


def test_the_candidate_loop_in_c_equals_python() -> None:
    """`scanners._hot.confirm_all` against `RawMatcher._confirm_all_py`: fuzzed buffers of every
    kind (C and Python confirmations), bytes and memoryviews, base offsets near sector
    boundaries, all categories or some, confidence floors that drop some values."""
    rng = random.Random(31)
    matchers = _matchers(b"k" * 32, ["email", "phone", "iban"])
    assert all(m._in_c is not None for m in matchers)
    compared = dropped = 0
    for data, _, n in _scans_agree(rng, matchers, "_in_c", lambda m: None):
        compared += n
        dropped += len(matchers[0].scan(data)) - len(matchers[2].scan(data))
    assert compared > 10_000
    assert dropped > 1_000  # the floor really drops values


def test_c_rules_judged_inside_the_loop_equal_their_calls() -> None:
    """`confirm_all` judges a kind with a C rule itself (`direct`), with no call and no tuple a
    candidate. Tried: 1,500 fuzzed buffers (every kind, bytes and memoryviews, bases near
    sector boundaries, a floor and a subset of categories); the findings equal those through
    each kind's confirm function, which hands undecided candidates to Python the same way."""
    rng = random.Random(47)
    matchers = _matchers(b"d" * 32, ["email", "phone", "personnummer"])
    rules = hot.compiled.RULES
    judged_here = {rules[d[1]] for d in matchers[0]._direct if d}
    assert judged_here == set(rules)  # every C rule is judged in the loop
    compared = sum(n for _, _, n in _scans_agree(rng, matchers, "_direct", lambda m: None))
    assert compared > 10_000


def test_the_loops_direct_rules_refuse_bad_entries() -> None:
    matcher = RawMatcher(ValueHasher(b"d" * 32))
    buf = b"mail anna.berg@example.se "
    starts = matcher._starts(buf)
    args = [buf, 0, starts, matcher._confirms, matcher.categories, 0.0, *matcher._in_c]
    args += [Finding, {}]  # noqa: RUF005
    kinds = len(matcher._confirms)
    assert len(hot.compiled.confirm_all(*args, (None,) * kinds)) == 1  # through the calls
    with pytest.raises(TypeError):
        hot.compiled.confirm_all(*args, (None,) * (kinds + 1))  # not one entry a kind
    with pytest.raises(ValueError, match="PyCapsule"):
        hot.compiled.confirm_all(*args, ((b"not a set-up", 0),) * kinds)
    setup = next(d for d in matcher._direct if d)[0]
    with pytest.raises(ValueError, match="no such C rule"):
        hot.compiled.confirm_all(*args, ((setup, len(hot.compiled.RULES)),) * kinds)
    with pytest.raises(TypeError):
        hot.compiled.confirm_all(*args, ((setup,),) * kinds)


def test_packed_starts_order_merge_and_confirm_as_the_tuples_do() -> None:
    """Candidates as packed keys (start << 8 | kind) through `order_starts`, `merge_starts` and
    `confirm_all` give what the (start, kind) tuples give. Tried: 1,500 fuzzed buffers, bytes
    and memoryviews, three matchers (a subset of categories, a floor)."""
    from array import array

    compiled = hot.compiled
    rng = random.Random(53)
    matchers = _matchers(b"p" * 32, ["email", "phone", "personnummer"])
    compared = 0
    for _, view, n in _scans_agree(rng, matchers, "_start_keys", lambda m: m._starts):
        compared += n
        for matcher in matchers:
            keys = matcher._start_keys(view)
            assert isinstance(keys, bytes)
            assert [(k >> 8, k & 255) for k in array("Q", keys)] == matcher._starts(view)
    assert compared > 10_000
    shift, gated = bytes([0, 1, 0]), bytes([0, 0, 1])
    pairs = [(5, 0), (0, 1), (7, 1), (5, 0), (9, 2), (3, 2), (9, 2)]
    keys = array("Q", [p << 8 | k for p, k in pairs]).tobytes()
    starts, at_zero, positions = compiled.order_starts(keys, shift, gated)
    assert array("Q", starts).tolist() == [5 << 8 | 0, 8 << 8 | 1]
    assert at_zero == [(0, 1)]
    assert positions == {2: [3, 9]}
    merged = compiled.merge_starts(starts, [(6, 0), (5, 0)])
    assert array("Q", merged).tolist() == [5 << 8, 6 << 8, 8 << 8 | 1]
    with pytest.raises(ValueError, match="8 bytes"):
        compiled.order_starts(keys[:-1], shift, gated)
    with pytest.raises(ValueError, match="beyond the shift table"):
        compiled.order_starts(array("Q", [5 << 8 | 3]).tobytes(), shift, gated)
    with pytest.raises(ValueError, match="8 bytes"):
        compiled.merge_starts(b"\x00" * 9, [])


def test_the_c_loops_findings_are_not_tracked_by_the_collector() -> None:
    """Findings made in C hold strings and numbers only, so the cyclic collector need not
    follow them; tracked, a dense page's tens of thousands made its passes a fifth of a scan."""
    m = RawMatcher(ValueHasher(b"k" * 32))
    text = b"Personnummer 19811218-9876, mail anna.berg@example.se, tel 070-123 45 67. "
    found = m.scan(text)
    assert [f.category for f in found] == ["personnummer", "email", "phone"]
    assert not any(gc.is_tracked(f) for f in found)
    assert all(isinstance(f.digest, str) and len(f.digest) == 64 for f in found)
    gc.collect()  # and the collector copes with them
    assert found == m.scan(text)


def test_the_c_loops_rest_the_collector_and_leave_it_as_it_was() -> None:
    """Each Finding made in C counted towards the collector's next pass, which came every 700
    findings although none is tracked; the loop now runs with the collector resting. Counted
    with gc.callbacks on a page of 30,000 findings: the old code set off about 40 passes."""
    m = RawMatcher(ValueHasher(b"k" * 32))
    page = b"Personnummer 19811218-9876, mail anna.berg@example.se, tel 070-123 45 67. " * 10_000
    m.scan(page)
    passes = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(count)
    try:
        found = m.scan(page)
    finally:
        gc.callbacks.remove(count)
    assert len(found) == 30_000
    assert len(passes) <= 3, passes
    assert gc.isenabled()
    gc.disable()
    try:
        m.scan(page[:1000])
        assert not gc.isenabled()  # left off by whoever turned it off
    finally:
        gc.enable()
