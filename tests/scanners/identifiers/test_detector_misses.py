"""The detector misses of issue 14 (found by differential testing), each one a case.

Every case is checked in the raw fast path (UTF-8, Latin-1 where the text has a Latin-1 form,
UTF-16LE) and in the text path, which must find exactly the one value, with the same digest.
"""

from __future__ import annotations

import pytest
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn

from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher
from scanners.identifiers import card, email, iban, luhn_check_digit
from scanners.text import TextDetector

HASHER = ValueHasher(b"m" * 32)
RAW = RawMatcher(HASHER)


def _card(prefix: str, length: int) -> str:
    body = (prefix + "4930271856" * 2)[: length - 1]
    return body + luhn_check_digit(body)


def _grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


CASES = [  # (text, category, the value as written)
    ("Ring 070-123 45 67 1 st. i kön.", "phone", "070-123 45 67"),
    ("Tel +46 70 123 45 67 8 gånger.", "phone", "+46 70 123 45 67"),
    ("Växel +46 (8) 123 456 78, vardagar.", "phone", "+46 (8) 123 456 78"),
    ("Mejla John@Example.Com i dag.", "email", "John@Example.Com"),
    ("Mejla jörgen@example.se i dag.", "email", "jörgen@example.se"),
    ("Mejla andré@example.se i dag.", "email", "andré@example.se"),
    ("Mejla user@räksmörgås.se i dag.", "email", "user@räksmörgås.se"),
    ("Mejla user@xn--rksmrgs-5wao1o.se i dag.", "email", "user@xn--rksmrgs-5wao1o.se"),
    ("Mejla info@example.xn--p1ai i dag.", "email", "info@example.xn--p1ai"),
    ("Klient ::ffff:192.0.2.1 loggade in.", "ip_address", "::ffff:192.0.2.1"),
    ("IBAN SE45-5000-0000-0583-9825-7466 gäller.", "iban", "SE45-5000-0000-0583-9825-7466"),
    *[
        (f"Kort {v} gäller.", "payment_card", v)
        for v in (
            _grouped(_card("2200", 16)),  # Mir 2200-2204
            _grouped(_card("2204", 16)),
            _card("1", 15),  # UATP
            _grouped(_card("9792", 16)),  # Troy
            _grouped(_card("81", 16)),  # UnionPay 81
            _grouped(_card("82", 16)),  # RuPay 82
        )
    ],
]


def _raw(text: str, encoding: str) -> list[tuple[str, str, str]]:
    data = text.encode(encoding)
    return [
        (f.category, data[f.offset : f.offset + f.length].decode(encoding), f.digest)
        for f in RAW.scan(data)
    ]


@pytest.mark.parametrize(("text", "category", "value"), CASES)
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16-le"])
def test_raw_path_finds_the_value(text: str, category: str, value: str, encoding: str) -> None:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        pytest.skip("no Latin-1 form")
    assert [(c, v) for c, v, _ in _raw(text, encoding)] == [(category, value)]


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(HASHER)


@pytest.mark.parametrize(("text", "category", "value"), CASES)
def test_text_path_finds_the_value(
    detector: TextDetector, text: str, category: str, value: str
) -> None:
    found = detector.scan(text)
    assert [(f.category, text[f.offset : f.offset + f.length]) for f in found] == [
        (category, value)
    ]
    # One value, one digest: the raw path in UTF-8 hashes the same normalized form.
    assert [f.digest for f in found] == [d for _, _, d in _raw(text, "utf-8")]


def test_one_address_one_digest_in_every_spelling() -> None:
    assert email.parse("John@Example.Com") == email.parse("john@example.com")
    assert email.parse("user@räksmörgås.se") == email.parse("user@xn--rksmrgs-5wao1o.se")
    assert email.parse("user@RÄKSMÖRGÅS.SE") == "user@räksmörgås.se"


@pytest.mark.parametrize("bad", ["00", "01", "99"])
def test_iban_check_digits_outside_02_to_98_are_rejected(bad: str) -> None:
    """ISO 7064 mod 97-10 yields 02-98; 00, 01 and 99 pass mod 97 when congruent to 97, 98, 2."""
    right = {"00": "97", "01": "98", "99": "02"}[bad]
    for account in range(100_000):
        bban = f"5000{account:016d}"
        if stdnum_iban.calc_check_digits("SE00" + bban) == right:
            break
    else:
        raise AssertionError("no account with those check digits")
    value = f"SE{bad}{bban}"
    assert stdnum_iban.is_valid(value)  # the oracle takes it
    assert iban.parse(f"SE{right}{bban}") is not None
    assert iban.parse(value) is None
    assert RAW.scan(f"IBAN {value} gäller.".encode()) == []


def test_one_repeated_digit_is_no_card() -> None:
    """A font bitmap's `6666666666666` passes Luhn and the 6-series prefix: no card."""
    assert stdnum_luhn.is_valid("6666666666666")
    assert card.parse("6666666666666") is None
    assert RAW.scan(b"\x00\x10\x7f6666666666666\x00\x10") == []
    assert card.parse("4111 1111 1111 1111") is not None  # two digits are enough
