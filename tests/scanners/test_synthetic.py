"""Synthetic values are deterministic and valid by the detectors' own rules."""

from __future__ import annotations

import datetime as dt

import pytest

from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher
from scanners.identifiers import card, giro, iban, orgnr, personnummer, phone
from scanners.synthetic import ORGNR_FORMS, PNR_FORMS, Synthetic

TODAY = dt.date(2026, 11, 27)


def test_same_seed_same_values() -> None:
    a, b = Synthetic(3, today=TODAY), Synthetic(3, today=TODAY)
    assert [a.person() for _ in range(20)] == [b.person() for _ in range(20)]
    assert Synthetic(4, today=TODAY).person() != Synthetic(3, today=TODAY).person()


@pytest.mark.parametrize("form", PNR_FORMS)
def test_personnummer_forms_are_valid(form: str) -> None:
    s = Synthetic(1, today=TODAY)
    for _ in range(300):
        for coordination in (False, True):
            v = s.personnummer(form, coordination=coordination)
            p = personnummer.parse(v, today=TODAY)
            assert p is not None, v
            assert p.coordination is coordination
            assert len(v) == len(form)


def test_other_values_are_valid() -> None:
    s = Synthetic(2, today=TODAY)
    for _ in range(300):
        for form in ORGNR_FORMS:
            assert orgnr.parse(s.organisationsnummer(form)), form
        for country in ("SE", "DE", "DK", "GB", "NL"):
            assert iban.parse(s.iban(country, grouped=False))
        for scheme in ("visa", "mastercard", "amex"):
            assert card.parse(s.card(scheme))
        assert giro.parse_bankgiro(s.bankgiro())
        assert giro.parse_plusgiro(s.plusgiro())
        for mobile in (True, False):
            for intl in (True, False):
                assert phone.parse(s.phone(mobile=mobile, international=intl))


def test_a_planted_person_is_found() -> None:
    s = Synthetic(5)
    p = s.person()
    record = f"Namn: {p.name}\nPersonnummer: {p.personnummer}\nE-post: {p.email}\n"
    record += f"Telefon: {p.phone}\nAdress: {p.address}\n"
    found = RawMatcher(ValueHasher.random()).scan(record.encode())
    assert {f.category for f in found} == {"personnummer", "email", "phone", "postal_address"}


def test_unknown_form_is_refused() -> None:
    with pytest.raises(ValueError, match="form"):
        Synthetic().personnummer("YYMMDD NNNC")
