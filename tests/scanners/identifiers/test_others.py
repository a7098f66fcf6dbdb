"""Organisationsnummer, phone, giro, IBAN, card, e-mail, IP and postnummer validators."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from stdnum.se import orgnr as stdnum_orgnr

from scanners.identifiers import card, email, giro, iban, ip, luhn_valid, orgnr, phone, postal

ORGNR = ["212000-0142", "556036-0793", "5560360793", "16556036-0793", "165560360793",
         "SE556036079301", "857209-0606", "802005-1952"]  # fmt: skip


@pytest.mark.parametrize("value", ORGNR)
def test_orgnr_valid(value: str) -> None:
    assert orgnr.parse(value) is not None


@pytest.mark.parametrize("value", ["556036-0794", "811218-9876", "401218-9876", "056036-0793"])
def test_orgnr_invalid(value: str) -> None:
    assert orgnr.parse(value) is None


def test_stdnum_orgnr_takes_a_personnummer_we_do_not() -> None:
    assert stdnum_orgnr.is_valid("811218-9876")  # only Luhn
    assert orgnr.parse("811218-9876") is None  # digits 3-4 are a month


@pytest.mark.parametrize(
    ("value", "e164"),
    [("070-123 45 67", "+46701234567"), ("0701234567", "+46701234567"),
     ("+46 70 123 45 67", "+46701234567"), ("+46 (0)70-123 45 67", "+46701234567"),
     ("0046 8 123 456 78", "+46812345678"), ("08-123 456 78", "+46812345678"),
     ("031-12 34 56", "+4631123456"), ("040-12 34 56", "+4640123456"),
     ("+1 212 555 0123", "+12125550123"), ("+44 20 7946 0958", "+442079460958"), ("12345", None)],
)  # fmt: skip
def test_phone(value: str, e164: str | None) -> None:
    assert phone.parse(value) == e164


def test_phone_fast_path_agrees_with_phonenumbers() -> None:
    """Our Swedish check (libphonenumber metadata, compiled once) says what phonenumbers says."""
    rng = random.Random(3)
    for _ in range(5000):
        prefix = rng.choice(["0", "+46", "0046", "+46 (0)", "+46 0"])
        value = prefix + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 11)))
        try:
            number = phonenumbers.parse(value, "SE")
            valid = phonenumbers.is_valid_number(number)
            expected = phonenumbers.format_number(number, 0) if valid else None
        except phonenumbers.NumberParseException:
            expected = None
        assert phone.parse(value) == expected, value


def test_phone_mobile() -> None:
    assert phone.is_mobile_se("+46701234567")
    assert not phone.is_mobile_se("+46812345678")


def test_giro() -> None:
    assert giro.parse_bankgiro("5050-1055") == "50501055"
    assert giro.parse_bankgiro("5050-1056") is None
    assert giro.parse_bankgiro("505-1057") == "5051057"  # the 7-digit form
    assert giro.parse_bankgiro("50501055") is None  # the hyphen is part of the written form
    assert giro.parse_plusgiro("28 65 53-3") == "2865533"
    # The reference's example `28 65 53-4` fails the Luhn rule it states; the rule wins.
    assert giro.parse_plusgiro("28 65 53-4") is None
    assert giro.parse_plusgiro("4-2") == "42"  # the shortest plusgiro: two digits
    assert giro.parse_plusgiro("12 34 56-6") == "1234566"
    assert not luhn_valid("2865534")


@pytest.mark.parametrize(
    "value",
    ["SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466", "DE89 3704 0044 0532 0130 00",
     "GB29 NWBK 6016 1331 9268 19", "NO93 8601 1117 947", "FI21 1234 5600 0007 85"],
)  # fmt: skip
def test_iban_valid(value: str) -> None:
    assert iban.parse(value) == value.replace(" ", "")


def test_iban_invalid() -> None:
    assert iban.parse("SE45 5000 0000 0583 9825 7467") is None
    assert iban.parse("SE45 5000 0000 0583 9825 746") is None  # SE is 24 characters


@pytest.mark.parametrize(
    ("value", "ok"),
    [("4111 1111 1111 1111", True), ("4111-1111-1111-1111", True), ("5555555555554444", True),
     ("378282246310005", True), ("4111 1111 1111 1112", False), ("1234567812345670", False),
     ("7300000000000000", False)],
)  # fmt: skip
def test_card(value: str, ok: bool) -> None:
    assert (card.parse(value) is not None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("anna.berg@example.se", True), ("A.B+tag@sub.example.co.uk", True), ("a@b", False),
     ("a..b@example.se", False), ("a@-example.se", False), ("@example.se", False),
     ("x" * 65 + "@example.se", False)],
)  # fmt: skip
def test_email(value: str, ok: bool) -> None:
    assert (email.parse(value) is not None) is ok


def test_email_normalizes_case() -> None:
    assert email.parse("Anna.Berg@Example.SE") == "anna.berg@example.se"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("192.168.1.20", "192.168.1.20"), ("2001:DB8::1", "2001:db8::1"), ("256.1.1.1", None),
     ("0.0.0.0", None), ("255.255.255.255", None), ("01.2.3.4", None), ("12:30:45", None)],
)  # fmt: skip
def test_ip(value: str, expected: str | None) -> None:
    assert ip.parse(value) == expected


def test_postal() -> None:
    assert postal.parse("123 45") == "12345"
    assert postal.parse("SE-123 45") == "12345"
    assert postal.parse("012 34") is None
    assert postal.street_before("Adress: Storgatan 12, ").group(0) == "Storgatan 12"
    assert postal.street_before("Box 123, ").group(0) == "Box 123"
    assert postal.street_before("Summa 12, ") is None
