"""The raw fast path: engines, encodings, offsets, the ambiguous ten-digit rule, bad input."""

from __future__ import annotations

import io
import os
import random
import re

import detector_corpus as corpus
import pytest

from scanners import engines
from scanners.fastpath import RAW_CATEGORIES, RawMatcher
from scanners.findings import Finding, ValueHasher
from scanners.identifiers import luhn_check_digit

HASHER = ValueHasher(b"k" * 32)
SAMPLE = (
    "Kund: Anna Berg, personnummer 8112189876, tel 070-123 45 67. Pnr 19811218-9876 och "
    "811218-9876. Mejl anna.berg@example.se. IBAN SE45 5000 0000 0583 9825 7466. Kort 4111 "
    "1111 1111 1111. Org.nr 556036-0793, moms SE556036079301. Adress: Sveavägen 12, 123 45 "
    "Göteborg. Bankgiro 5050-1055, plusgiro 28 65 53-3. IP 192.168.1.20 och 2001:db8::1. "
    "Växel +46 8 123 456 78, samordningsnummer 811278-9873.\n"
)
EXPECTED = [
    ("personnummer", "8112189876"), ("phone", "070-123 45 67"),
    ("personnummer", "19811218-9876"), ("personnummer", "811218-9876"),
    ("email", "anna.berg@example.se"), ("iban", "SE45 5000 0000 0583 9825 7466"),
    ("payment_card", "4111 1111 1111 1111"), ("organisationsnummer", "556036-0793"),
    ("organisationsnummer", "SE556036079301"), ("postal_address", "Sveavägen 12, 123 45 Göteborg"),
    ("bankgiro", "5050-1055"), ("plusgiro", "28 65 53-3"), ("ip_address", "192.168.1.20"),
    ("ip_address", "2001:db8::1"), ("phone", "+46 8 123 456 78"),
    ("samordningsnummer", "811278-9873"),
]  # fmt: skip
ENGINES = engines.available()


def _values(data: bytes, findings: list[Finding], encoding: str, base: int = 0) -> list:
    return [
        (f.category, data[f.offset - base : f.offset - base + f.length].decode(encoding))
        for f in findings
    ]


def test_all_three_engines_are_installed() -> None:
    # hyperscan and google-re2 are dependencies; `re` is the fallback of last resort.
    assert ENGINES == ["hyperscan", "re2", "re"]
    assert RawMatcher(HASHER).engine == "hyperscan"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16-le"])
def test_every_category_in_every_encoding(engine: str, encoding: str) -> None:
    data = SAMPLE.encode(encoding)
    found = RawMatcher(HASHER, engine=engine).scan(data)
    assert _values(data, found, encoding) == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_engines_agree_on_a_generated_text(encoding: str) -> None:
    data = corpus.build(seed=5, items=600).text.encode(encoding)
    results = [RawMatcher(HASHER, engine=e).scan(data) for e in ENGINES]
    assert len(results[0]) > 400
    assert all(r == results[0] for r in results[1:])


def test_offsets_are_bytes_plus_base_offset() -> None:
    data = b"\xff\xfe garbage \x00\x01 pnr 811218-9876 \x80\x81"
    (f,) = RawMatcher(HASHER, ["personnummer"]).scan(memoryview(data), base_offset=4096)
    assert f.offset == 4096 + data.index(b"811218")
    assert f.length == 11


def test_utf16_at_an_odd_byte_offset() -> None:
    data = b"\x07" + "Personnummer: 811218-9876, mejl a@b.se.".encode("utf-16-le")
    found = RawMatcher(HASHER).scan(bytearray(data))
    assert [(f.category, f.offset, f.length) for f in found] == [
        ("personnummer", 1 + 2 * 14, 22),
        ("email", 1 + 2 * 32, 12),
    ]


def test_a_street_far_before_its_postnummer_is_found_in_utf16_as_in_utf8() -> None:
    # The street word stands 34 characters before the postnummer: within the gate's window in
    # characters, which UTF-16 once counted in bytes.
    text = "Leverans till Storgatan" + " " * 26 + "12, 114 55 Stockholm i morgon."
    found = {enc: RawMatcher(HASHER).scan(text.encode(enc)) for enc in ("utf-8", "utf-16-le")}
    assert [(f.category, f.length) for f in found["utf-8"]] == [("postal_address", 55)]
    assert [(f.category, f.length) for f in found["utf-16-le"]] == [("postal_address", 110)]
    assert found["utf-8"][0].digest == found["utf-16-le"][0].digest


def test_same_value_same_digest_in_every_form_and_encoding() -> None:
    forms = ["811218-9876", "19811218-9876", "198112189876", "pnr 8112189876"]
    digests = set()
    for form in forms:
        for enc in ("utf-8", "utf-16-le"):
            digests |= {f.digest for f in RawMatcher(HASHER).scan(form.encode(enc))}
    assert digests == {HASHER.digest("198112189876")}


def test_findings_never_hold_the_value() -> None:
    found = RawMatcher(HASHER).scan(SAMPLE.encode())
    text = repr(found)
    for _, value in EXPECTED:
        assert value not in text
        assert value.replace(" ", "").replace("-", "") not in text


def test_ambiguous_ten_digits_need_context() -> None:
    nine = "070123456"
    value = nine + luhn_check_digit(nine)  # a valid personnummer (2007-01-23) and a mobile number
    m = RawMatcher(HASHER)
    assert [f.category for f in m.scan(f"Ring {value} i dag".encode())] == ["phone"]
    assert [f.category for f in m.scan(f"Personnummer {value}".encode())] == ["personnummer"]
    assert [f.category for f in m.scan(f"PNR:{value};".encode())] == ["personnummer"]
    assert m.scan(b"Summa 8112189876 kr") == []  # valid, bare, no context: not reported
    assert [f.category for f in m.scan(b"Summa 811218-9876 kr")] == ["personnummer"]


def test_reference_words_veto_weak_forms_only() -> None:
    m = RawMatcher(HASHER)
    assert m.scan(b"Ordernr 811218-9876 skickad") == []
    assert m.scan(b"Ordernr 123. Kund 811218-9876")  # the veto ends with the clause
    assert m.scan(b"Ordernr 811218-9876, personnummer")  # a personnummer word beats it


@pytest.mark.parametrize(
    "text",
    ["811218-9877", "811218-0006", "811318-9876", "870231-1234", "8112189876543", "19811218 9876",
     "0811218-9876", "811218-98765", "4111 1111 1111 1112", "1.2.3.4.5", "12:30:45"],
)  # fmt: skip
def test_hard_negatives(text: str) -> None:
    m = RawMatcher(HASHER, ["personnummer", "samordningsnummer", "payment_card", "ip_address"])
    assert m.scan(f"Värde: {text}.".encode()) == []


def test_category_filter() -> None:
    data = SAMPLE.encode()
    assert {f.category for f in RawMatcher(HASHER, ["email"]).scan(data)} == {"email"}
    with pytest.raises(ValueError, match="person_name"):
        RawMatcher(HASHER, ["person_name"])
    assert "person_name" not in RAW_CATEGORIES


def test_stream_equals_whole_scan_across_chunk_edges() -> None:
    data = corpus.build(seed=9, items=3000).text.encode("utf-16-le")
    m = RawMatcher(HASHER)
    whole = m.scan(data, base_offset=100)
    streamed = list(m.scan_stream(io.BytesIO(data), chunk_size=64 << 10, base_offset=100))
    assert len(whole) > 2000
    assert streamed == whole


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_input_does_not_crash(engine: str) -> None:
    m = RawMatcher(HASHER, engine=engine)
    rng = random.Random(1)
    mib = (1 << 20) // (8 if engine == "re" else 1)  # the `re` fallback runs at a few MB/s
    garbage = bytes(rng.getrandbits(8) for _ in range(mib))
    assert isinstance(m.scan(garbage), list)
    assert m.scan(bytes(4 * mib)) == []  # NUL-filled
    assert m.scan(b"7" * (2 * mib)) == []  # one long digit run
    assert m.scan(b"") == []
    invalid_utf8 = b"\xc3\x28\xa0\xa1 pnr 811218-9876 \xe2\x28\xa1\xf0\x28\x8c\xbc"
    assert [f.category for f in m.scan(invalid_utf8)] == ["personnummer"]


def test_digit_run_costs_one_candidate() -> None:
    # A long run yields at most a handful of candidates (the boundary is part of each pattern).
    m = RawMatcher(HASHER)
    assert len(m._engine.candidates(b"1" * (1 << 20) + b" ")) <= 8
    assert len(m._engine.candidates(os.urandom(0) + b"1" * (1 << 20))) <= 8


def test_random_bytes_hold_almost_nothing() -> None:
    """An AES-CTR wipe pattern or encrypted data looks random: the post-wipe scan must stay quiet.

    Before the rules for binary surroundings, 64 MiB of random bytes gave about 100 IP addresses.
    """
    m = RawMatcher(HASHER)
    found = [f for seed in range(2) for f in m.scan(random.Random(seed).randbytes(16 << 20))]
    assert len(found) <= 1
    assert {f.category for f in found} <= {"email"}


def test_one_matcher_shared_by_threads() -> None:
    """The device scan shares one RawMatcher between worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    m = RawMatcher(HASHER)
    pages = [corpus.build(seed=s, items=400).text.encode("utf-8") for s in range(6)]
    serial = [m.scan(p) for p in pages]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(m.scan, pages))
    assert parallel == serial


@pytest.mark.parametrize(
    ("glued", "alone"),
    [
        # Seen in a certificate: a date-based id whose digits pass as a 12-digit personnummer.
        (b'{"findings":{"personnummer":{"count":14}},"id":"SAN-20261127-6722c15783"}',
         b'{"findings":{"personnummer":{"count":14}},"id":"SAN-20261127-6722 c15783"}'),
        # A SHA-256 hex digest holding a Luhn-valid card-length digit run.
        (b'"hash":"f29af2826515d56a04f4806545896389eda5f545ed"',
         b'"hash":"f29af2826515d56a04f4806545896389 eda5f545ed"'),
    ],
)  # fmt: skip
def test_digits_glued_to_a_following_letter_are_part_of_a_token(glued, alone) -> None:
    matcher = RawMatcher(HASHER)
    assert matcher.scan(glued) == []
    assert matcher.scan(alone) != []  # the same digits standing alone are a value


def _stdnum_ibans(rng: random.Random) -> dict[str, str]:
    """A valid IBAN (stdnum says so) of each country in stdnum's registry, where one is drawn."""
    from stdnum import iban as stdnum_iban

    drawn: dict[str, str] = {}
    for line in stdnum_iban._ibandb.prefixes:  # (length, low, high, props, children)
        code, props = line[1], line[3]
        if len(code) != 2 or "bban" not in props:
            continue
        pieces = [(int(n), kind) for n, kind in re.findall(r"(\d+)!([nac])", props["bban"])]
        for _ in range(200):  # national checks (Norway's mod 11, ...) refuse some draws
            bban = "".join(
                rng.choice({"n": "0123456789", "a": UPPER, "c": UPPER + "0123456789"}[kind])
                for n, kind in pieces
                for _ in range(n)
            )
            value = code + stdnum_iban.calc_check_digits(code + "00" + bban) + bban
            if stdnum_iban.is_valid(value):
                drawn[code] = value
                break
    return drawn


UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_the_iban_countries_are_those_whose_structure_parse_checks() -> None:
    """`countries` (read from the registry without compiling) against `parse`'s own lookup."""
    from scanners.identifiers import iban

    codes = [a + b for a in UPPER for b in UPPER]
    assert iban.countries() == tuple(c for c in codes if iban._country(c)[0] is not None)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_an_iban_of_every_registry_country_is_found(engine: str, encoding: str) -> None:
    """Oracle: python-stdnum draws and validates an IBAN of each of its countries; each is
    found, compact and in groups of four. The candidate pattern names the countries, so a
    hex queue id (`64BEA372DB8F`) or an `EA37 ...` group is no candidate at all."""
    from scanners.identifiers import iban

    drawn = _stdnum_ibans(random.Random(2883))
    assert set(drawn) <= set(iban.countries())
    assert len(drawn) >= 80
    grouped = {c: " ".join(v[i : i + 4] for i in range(0, len(v), 4)) for c, v in drawn.items()}
    text = "".join(f"Konto {v}, alltså {grouped[c]}.\n" for c, v in sorted(drawn.items()))
    data = text.encode(encoding)
    found = RawMatcher(HASHER, engine=engine).scan(data)
    assert [c for c, _ in _values(data, found, encoding)] == ["iban"] * (2 * len(drawn))
    noise = "queued as 64BEA372DB8F, ref EA37 1234 5678 9012 3456 78, XX12 3456 7890 1234\n"
    matcher = RawMatcher(HASHER, engine=engine)
    assert matcher.scan(noise.encode(encoding)) == []
    kinds = [i for i, c in enumerate(matcher._compiled) if c.kind.name == "iban"]
    assert kinds
    candidates = matcher._engine.candidates(noise.encode(encoding))
    assert [i for _, i in candidates if i in kinds] == []
