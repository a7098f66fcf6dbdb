"""Retention: a closed batch's evidence is past retention after the agreement's years."""

from __future__ import annotations

from datetime import UTC, date, datetime

from evidence_fixtures import load_device, scan_report, wipe_result

from asset_pipeline.evidence import issuing, retention
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches


def _closed_batch(station: Station, add_device, closed: datetime) -> int:
    device_id = add_device()
    with station.session() as session:
        device = load_device(session, device_id)
        issuing.issue_sanitization_certificate(
            session,
            station,
            device,
            wipe_result=wipe_result(),
            pre_scan=None,
            post_scan=scan_report(),
        )
        device.batch.closed_at = closed
        return device.batch.id


def test_retention_end_counts_years_from_closing(station: Station, add_device) -> None:
    batch_id = _closed_batch(station, add_device, datetime(2024, 2, 29, 12, tzinfo=UTC))
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        assert retention.retention_end(batch) == date(2031, 2, 28)  # 7 years, no 29 February
        batch.closed_at = None
        assert retention.retention_end(batch) is None


def test_only_batches_past_retention_are_listed(station: Station, add_device) -> None:
    old = _closed_batch(station, add_device, datetime(2018, 5, 2, tzinfo=UTC))
    _closed_batch(station, add_device, datetime(2024, 5, 2, tzinfo=UTC))
    add_device()  # an open batch: never past retention
    with station.session() as session:
        items = retention.past_retention(session, station, as_of=date(2026, 1, 1))
    assert {i.batch_id for i in items} == {old}
    kinds = [i.kind for i in items]
    assert kinds == ["sanitization", "audit_events"]
    assert items[0].kept_until == date(2025, 5, 2)
    assert len(items[0].files) == 2
    assert items[1].identifier == "3 events (seq 1-3)"  # registered, closed, certificate issued
