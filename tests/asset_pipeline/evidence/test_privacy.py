"""The payload rule: no personal-data values in evidence."""

from __future__ import annotations

import pytest

from asset_pipeline.errors import PersonalDataRefused
from asset_pipeline.evidence.privacy import MAX_STRING, check_payload, screen


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("anna.svensson@example.se", "email"),
        ("19811218-9876", "personnummer"),
        ("811218-9876", "personnummer"),
        ("811278-9873", "samordningsnummer"),
        ("4111 1111 1111 1111", "payment_card"),
        ("SE45 5000 0000 0583 9825 7466", "iban"),
        ("/dev/loop3", None),
        ("2026-11-27T02:37:16.123456Z", None),
        ("811218-9875", None),  # bad check digit
        ("WD-WCC6Y1234567", None),
        ("sha256 5bd7cd02e75d363428ed62feaa285c382da41f02997d2c6583fc950b019e0a47", None),
    ],
)
def test_screen(value: str, category: str | None) -> None:
    assert screen(value) == category


def test_refusal_names_field_and_category_never_the_value() -> None:
    with pytest.raises(PersonalDataRefused) as caught:
        check_payload({"notes": ["ok", "mail anna.svensson@example.se"]}, where="notes")
    assert "notes[1]" in str(caught.value)
    assert "email" in str(caught.value)
    assert "anna" not in str(caught.value)


def test_withhold_mode_keeps_the_record() -> None:
    clean = check_payload(
        {"reason": "x" * (MAX_STRING + 50), "who": "19811218-9876"}, where="t", on_match="withhold"
    )
    assert len(clean["reason"]) == MAX_STRING
    assert clean["who"] == "[withheld: looks like personnummer]"


def test_long_strings_are_refused_by_default() -> None:
    with pytest.raises(PersonalDataRefused, match="characters"):
        check_payload({"reason": "x" * (MAX_STRING + 1)}, where="t")


def test_a_new_certificate_id_never_looks_like_personal_data(monkeypatch) -> None:
    """The CI run of 2026-12-03 drew `SAN-20261203-7811650808`: its random part is a valid
    samordningsnummer, so the processing log withheld the id of the certificate it issued."""
    from asset_pipeline.evidence import issuing
    from asset_pipeline.evidence.privacy import check_payload, screen

    assert screen("SAN-20261203-7811650808") == "samordningsnummer"
    drawn = iter(["7811650808", "3f9a1c2b7d"])
    monkeypatch.setattr(issuing.secrets, "token_hex", lambda n: next(drawn))
    cert_id = issuing.new_id("sanitization")
    assert cert_id.endswith("-3f9a1c2b7d")
    payload = check_payload({"certificate_id": cert_id}, where="audit", on_match="withhold")
    assert payload == {"certificate_id": cert_id}
