"""Personnummer and samordningsnummer: the reference test vectors and where stdnum is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.se import personnummer as stdnum_pnr

from scanners.identifiers import luhn_check_digit, personnummer

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    "value",
    ["19090527+1474", "20000229-2399", "195704289999", "194608239986", "190901219931",
     "200004059937", "811218-9876", "8112189876", "19811218-9876", "198112189876"],
)  # fmt: skip
def test_valid_vectors(value: str) -> None:
    assert personnummer.parse(value, today=TODAY) is not None


@pytest.mark.parametrize(
    ("value", "why"),
    [("20150916-0006", "serial 000"), ("19700428-9895", "Luhn"), ("19600430-9886", "Luhn"),
     ("19420566-9899", "Luhn"), ("857209-0606", "orgnr: month 72"), ("802005-1952", "month 20"),
     ("870231-1234", "31 February"), ("811218 9876", "space is no separator"),
     ("17811218-9876", "century 17"), ("811318-9876", "month 13"), ("20991218-9876", "future")],
)  # fmt: skip
def test_invalid_vectors(value: str, why: str) -> None:
    assert personnummer.parse(value, today=TODAY) is None, why


def test_leap_day() -> None:
    assert personnummer.parse("20000229-2399", today=TODAY) is not None
    nine = "010229239"  # 2001 is no leap year
    assert personnummer.parse(nine[:6] + "-" + nine[6:] + luhn_check_digit(nine)) is None


def test_century_of_ten_digit_forms() -> None:
    # 10 digits: the most recent year not in the future; "+" means 100 years earlier.
    assert personnummer.parse("811218-9876", today=TODAY).birth_date.year == 1981
    assert personnummer.parse("090527+1474", today=TODAY).birth_date.year == 1909
    assert personnummer.parse("000229-2399", today=TODAY).birth_date.year == 2000


def test_every_form_normalizes_the_same() -> None:
    forms = ["811218-9876", "8112189876", "19811218-9876", "198112189876"]
    assert {personnummer.parse(f, today=TODAY).normalized for f in forms} == {"198112189876"}


def test_samordningsnummer_day_plus_sixty() -> None:
    p = personnummer.parse("811278-9873", today=TODAY)  # 18 December 1981, day written 78
    assert p is not None
    assert p.coordination
    assert p.category == "samordningsnummer"
    assert p.birth_date == dt.date(1981, 12, 18)
    assert p.normalized == "198112789873"


def test_sex_from_ninth_digit() -> None:
    assert personnummer.parse("811218-9876", today=TODAY).male  # ninth digit 7: odd
    assert not personnummer.parse("194608239986", today=TODAY).male  # ninth digit 8: even


def test_stdnum_rejects_samordningsnummer_we_accept() -> None:
    assert not stdnum_pnr.is_valid("811278-9873")
    assert personnummer.is_valid("811278-9873")


def test_stdnum_accepts_serial_000_we_reject() -> None:
    nine = "811218000"
    value = f"{nine[:6]}-000{luhn_check_digit(nine)}"
    assert stdnum_pnr.is_valid(value)
    assert personnummer.parse(value) is None
