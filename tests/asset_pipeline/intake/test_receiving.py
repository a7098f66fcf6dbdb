"""Receiving assets by barcode: matched, unexpected, twice, and codes that are personal data."""

from __future__ import annotations

import pytest
from intake_lists import csv_bytes

from asset_pipeline.errors import BatchClosed, IntakeError
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit_check import verify_chain
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import receive
from asset_pipeline.storage import assets, batches


@pytest.fixture
def listed(in_batch) -> None:
    in_batch(import_manifest, "lista.csv", csv_bytes())


def custody_rows(station, batch_id):
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        return {
            a.asset_tag: [
                (c.step, c.audit_seq, dict(c.detail)) for c in assets.custody_of(session, a)
            ]
            for a in assets.batch_assets(session, batch)
        }


def test_a_tag_and_a_serial_in_any_case_are_matched(station, batch_id, listed, in_batch):
    by_tag = in_batch(receive, " INV-0001 ")
    by_serial = in_batch(receive, "c02xk0abjgh5", condition="damaged")
    assert (by_tag.status, by_tag.asset_tag, by_tag.condition) == ("received", "INV-0001", "ok")
    assert (by_serial.status, by_serial.asset_tag, by_serial.condition) == (
        "received", "INV-0002", "damaged",
    )  # fmt: skip
    assert by_tag.received_by == "Örjan Ekström"
    assert by_tag.received_at is not None


def test_every_receipt_is_a_custody_row_and_the_same_event_in_the_log(
    station, batch_id, listed, in_batch
):
    in_batch(receive, "INV-0001")
    in_batch(receive, "INV-0001", condition="damaged")
    in_batch(receive, "INV-0001", condition="damaged")  # nothing new: no event
    rows = custody_rows(station, batch_id)["INV-0001"]
    assert [(step, detail) for step, _, detail in rows] == [
        ("received", {"condition": "ok", "expected": True, "via": "scan"}),
        ("condition", {"condition": "damaged", "was": "ok"}),
    ]
    with station.session() as session:
        for step, seq, detail in rows:
            event = audit.event_at(session, seq)
            assert event.event_type == f"custody.{step}"
            assert event.batch_id == batch_id
            assert {k: event.payload[k] for k in detail} == detail
            assert event.payload["asset_tag"] == "INV-0001"
        assert verify_chain(session).broken is None


def test_a_code_on_no_list_is_recorded_as_unexpected(station, batch_id, listed, in_batch):
    receipt = in_batch(receive, "OKÄND-77")
    assert (receipt.status, receipt.expected, receipt.asset_tag) == (
        "unexpected",
        False,
        "OKÄND-77",
    )
    again = in_batch(receive, "okänd-77")  # the same asset, not a second one
    assert (again.status, again.asset_id) == ("already_received", receipt.asset_id)
    assert custody_rows(station, batch_id)["OKÄND-77"][0][2]["expected"] is False


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("anna.svensson@example.se", "an e-mail address"),  # a staff badge, not an asset
        ("19811218-9876", "a personnummer"),
        ("811218-9876", "a personnummer"),
        ("198112189876", "a personnummer"),
        ("19811278-9873", "a samordningsnummer"),
    ],
)
def test_a_code_that_is_personal_data_is_refused_and_not_recorded(
    station, batch_id, listed, in_batch, code, what
):
    before = custody_rows(station, batch_id)
    with pytest.raises(IntakeError) as caught:
        in_batch(receive, code)
    assert str(caught.value) == (
        f"the scanned code looks like {what}, not an asset tag or serial; nothing was recorded"
    )
    assert code not in str(caught.value)
    assert custody_rows(station, batch_id) == before


@pytest.mark.parametrize("code", ["4111111111111111", "8112189876", "5560360793"])
def test_numeric_tags_are_tags(listed, in_batch, code):
    """A bare number is a common asset tag; a tenth of them pass a Luhn check by chance."""
    assert in_batch(receive, code).status == "unexpected"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("   ", "an empty code was scanned"),
        ("X" * 101, "the scanned code is 101 characters; at most 100"),
        ("INV\x1b[2J", "the scanned code holds control characters"),
    ],
)
def test_malformed_scans(listed, in_batch, code, message):
    with pytest.raises(IntakeError, match=message.replace("[", r"\[")):
        in_batch(receive, code)


def test_an_unknown_condition_is_refused(listed, in_batch):
    with pytest.raises(IntakeError, match="condition 'wet' is not one of ok, damaged"):
        in_batch(receive, "INV-0001", condition="wet")


def test_a_closed_batch_receives_nothing(station, batch_id, listed, in_batch):
    with station.session() as session:
        batches.close_batch(session, batches.find_batch(session, batch_id))
    with pytest.raises(BatchClosed, match="batch 1 is closed; it takes no more assets"):
        in_batch(receive, "INV-0001")
