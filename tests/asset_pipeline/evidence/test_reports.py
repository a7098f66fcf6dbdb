"""Batch reports: outcomes from the evidence, totals, CSV, and a signed document."""

from __future__ import annotations

import csv
import io
from datetime import date

from evidence_fixtures import (
    PLANTED,
    PRE_FINDINGS,
    drive,
    load_device,
    register_device,
    scan_report,
    wipe_result,
)

from asset_pipeline.evidence import batch_report, issuing
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.flow import destruction
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches


def _batch_of_four(station: Station, add_device) -> int:
    """One batch: sanitized, destroyed, failed (pending destruction) and still registered."""
    first = add_device()
    with station.session() as session:
        device = load_device(session, first)
        batch = device.batch
        extra = []
        for n, state in enumerate(("failed", "failed", "registered")):
            d = register_device(session, batch, drive(f"S{n}X", f"/dev/loop{n}"))
            d.state = state
            extra.append(d)
        issuing.issue_sanitization_certificate(
            session,
            station,
            device,
            wipe_result=wipe_result(),
            pre_scan=scan_report(PRE_FINDINGS),  # its locations carry every planted value
            post_scan=scan_report(),
        )
        destruction.record_destruction(
            session,
            station,
            extra[0],
            method="pulverize",
            destroyed_on=date.today(),
            witness="Lena Berg",
        )
        return batch.id


def test_outcomes_and_totals(station: Station, add_device) -> None:
    batch_id = _batch_of_four(station, add_device)
    with station.session() as session:
        rows = batch_report.device_outcomes(session, batches.find_batch(session, batch_id))
    assert [r["outcome"] for r in rows] == [
        "sanitized",
        "destroyed",
        "failed-pending",
        "in-progress",
    ]
    assert rows[0]["method"] == {"method": "Clear", "technique": "Overwrite"}
    assert rows[1]["method"] == {"method": "Destroy", "technique": "pulverize"}
    assert rows[0]["certificate_id"].startswith("SAN-")
    assert rows[1]["certificate_id"].startswith("DES-")
    assert batch_report.totals(rows) == {
        "devices": 4,
        "sanitized": 1,
        "destroyed": 1,
        "failed_pending": 1,
        "in_progress": 1,
    }


def test_issued_report_is_signed_sealed_and_verifies(station: Station, add_device) -> None:
    batch_id = _batch_of_four(station, add_device)
    with station.session() as session:
        issued = batch_report.issue_batch_report(
            session, station, batches.find_batch(session, batch_id)
        )
    doc = issued.signed.document
    assert doc["customer"]["agreement_reference"] == "PUB-2026-Ö1"
    assert doc["totals"]["devices"] == 4
    pdf = issued.pdf_path.read_bytes()
    with station.session() as session:
        for data in (issued.signed.data, pdf):
            report = verify_bytes(data, station.key.public_key, session=session)
            assert report.ok, report.checks
    text = read_pdf(pdf).text
    for expected in ("Rapport för parti", "Batch Report", "PUB-2026-Ö1", "Åre kommun",
                     "Misslyckade, väntar på", "Failed, awaiting destruction", "Överskrivning",
                     "Pulverisering", "Pulverizing", "S1X"):  # fmt: skip
        assert expected in text, expected
    for value in PLANTED:
        assert value not in text
        assert value not in issued.signed.data.decode()


def test_csv_has_a_row_per_device_then_totals(station: Station, add_device) -> None:
    batch_id = _batch_of_four(station, add_device)
    with station.session() as session:
        issued = batch_report.issue_batch_report(
            session, station, batches.find_batch(session, batch_id)
        )
    rows = list(csv.reader(io.StringIO(batch_report.report_csv(issued.signed.document))))
    assert rows[0] == list(batch_report.CSV_COLUMNS)
    assert [r[6] for r in rows[1:5]] == ["sanitized", "destroyed", "failed-pending", "in-progress"]
    assert rows[5] == []
    assert dict(zip(rows[6], rows[7], strict=True)) == {
        "devices": "4",
        "sanitized": "1",
        "destroyed": "1",
        "failed_pending": "1",
        "in_progress": "1",
    }
