"""Reconciliation, closing and releasing: one missing asset, one unexpected, one destroyed drive."""

from __future__ import annotations

import pytest
from evidence_fixtures import drive
from intake_lists import build_shipment, csv_bytes

from asset_pipeline.errors import (
    BatchClosed,
    BatchNotReconciled,
    CustodyRefused,
    IntakeError,
    PersonalDataRefused,
)
from asset_pipeline.evidence import audit
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.linking import link
from asset_pipeline.intake.receiving import receive
from asset_pipeline.intake.reconcile import close, reconcile
from asset_pipeline.intake.release import release
from asset_pipeline.storage import assets, batches, devices


@pytest.fixture
def shipment(station, batch_id) -> dict[str, int]:
    """See `intake_lists.build_shipment`."""
    return build_shipment(station, batch_id)


def test_counts_and_lists(shipment, in_batch):
    result = in_batch(lambda session, station, batch: reconcile(session, batch).to_dict())
    assert result["counts"] == {
        "expected": 3, "received": 3, "missing": 1, "unexpected": 1, "released": 0,
        "drives": 3, "processed": 2, "certified": 1, "destroyed": 1, "failed": 0,
        "in_pipeline": 1, "drives_without_asset": 1,
    }  # fmt: skip
    assert [a["asset_tag"] for a in result["missing"]] == ["INV-0003"]
    assert [a["asset_tag"] for a in result["unexpected"]] == ["OKÄND-9"]
    assert [d["device_id"] for d in result["in_pipeline"]] == [shipment["loose"]]
    (certified,) = result["processed"]["certified"]
    assert (certified["asset_tag"], certified["certificate_id"][:4]) == ("INV-0001", "SAN-")
    (destroyed,) = result["processed"]["destroyed"]
    assert (destroyed["asset_tag"], destroyed["method"]) == (
        "INV-0002", {"method": "Destroy", "technique": "shred"},
    )  # fmt: skip
    statuses = {a["asset_tag"]: a["status"] for a in result["assets"]}
    assert statuses == {"INV-0001": "processed", "INV-0002": "processed",
                        "INV-0003": "missing", "OKÄND-9": "received"}  # fmt: skip


def test_close_is_refused_naming_what_is_outstanding(shipment, station, batch_id, in_batch):
    with pytest.raises(BatchNotReconciled) as caught:
        in_batch(close)
    assert str(caught.value) == (
        f"batch {batch_id} cannot close: 1 device(s) mid-pipeline: device {shipment['loose']} "
        "(sanitizing); 1 listed asset(s) not received: INV-0003. Finish them, or close anyway "
        "with --force --reason TEXT"
    )
    with station.session() as session:
        assert batches.find_batch(session, batch_id).is_open


def test_a_forced_close_needs_a_reason_and_logs_it(shipment, station, batch_id, in_batch):
    with pytest.raises(IntakeError, match="a forced close needs a reason"):
        in_batch(close, force=True, reason="  ")
    with pytest.raises(PersonalDataRefused, match="looks like a email"):
        in_batch(close, force=True, reason="per anna.svensson@example.se")
    result = in_batch(close, force=True, reason="INV-0003 lost in transit; customer informed")
    assert (result.status, result.close_reason) == (
        "closed", "INV-0003 lost in transit; customer informed",
    )  # fmt: skip
    with station.session() as session:
        (event,) = [e for e in audit.batch_events(session, batch_id)
                    if e.event_type == "batch.closed"]  # fmt: skip
        assert event.payload["forced"] is True
        assert event.payload["reason"] == "INV-0003 lost in transit; customer informed"
        assert (event.payload["in_pipeline"], event.payload["missing"]) == (1, 1)
        batch = batches.find_batch(session, batch_id)
        with pytest.raises(BatchClosed):  # a closed batch takes no more devices
            devices.new_device(session, batch, drive("WD-9"))
    with pytest.raises(BatchClosed, match="already closed"):
        in_batch(close)


def test_a_batch_that_reconciles_closes_without_force(station, batch_id, in_batch):
    in_batch(import_manifest, "l.csv", csv_bytes())
    for code in ("INV-0001", "INV-0002", "INV-0003"):
        in_batch(receive, code)
    result = in_batch(close)
    assert (result.status, result.close_reason) == ("closed", "")


def test_release_rules(shipment, station, batch_id, in_batch):
    assert in_batch(release, "INV-0001", "refurbish").destination == "refurbish"
    with pytest.raises(CustodyRefused, match="already released to refurbish"):
        in_batch(release, "INV-0001", "recycle")
    assert in_batch(release, "inv-0002", "recycle").destination == "recycle"  # drive destroyed
    with pytest.raises(CustodyRefused, match="INV-0003 was never received"):
        in_batch(release, "INV-0003", "destroy")
    with pytest.raises(CustodyRefused, match=r"no drive of asset OKÄND-9 was processed"):
        in_batch(release, "OKÄND-9", "refurbish")
    assert in_batch(release, "OKÄND-9", "refurbish", no_storage=True).released_at is not None
    with pytest.raises(IntakeError, match="destination 'sell' is not one of"):
        in_batch(release, "INV-0003", "sell")
    steps = {}
    with station.session() as session:
        for asset in assets.batch_assets(session, batches.find_batch(session, batch_id)):
            steps[asset.asset_tag] = [
                (c.step, c.detail.get("outcome") or c.detail.get("destination"))
                for c in assets.custody_of(session, asset)
            ]
    assert steps["INV-0001"] == [
        ("received", None),
        ("drive_removed", None),
        ("drive_processed", "certified"),
        ("released", "refurbish"),
    ]
    assert steps["INV-0002"] == [
        ("received", None),
        ("drive_removed", None),
        ("drive_processed", "destroyed"),
        ("released", "recycle"),
    ]
    assert steps["INV-0003"] == []


def test_a_drive_not_yet_certified_keeps_its_asset_from_refurbishment(station, batch_id, in_batch):
    in_batch(import_manifest, "l.csv", csv_bytes())
    in_batch(receive, "INV-0001")
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        device = devices.new_device(session, batch, drive("WD-7"))
        link(session, station, device, assets.find_asset(session, batch, "INV-0001"))
        device.state = "verified"
    with pytest.raises(CustodyRefused, match=r"device \d+ of asset INV-0001 is still in the"):
        in_batch(release, "INV-0001", "destroy")
    with station.session() as session:
        devices.find_device(session, device.id).state = "failed"
    with pytest.raises(CustodyRefused, match=r"is failed and was not destroyed"):
        in_batch(release, "INV-0001", "refurbish")
    assert in_batch(release, "INV-0001", "destroy").destination == "destroy"
