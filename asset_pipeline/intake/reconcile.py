"""Reconciling a batch: what the customer said would come, what came, and what became of it.

A drive's outcome is the batch report's (`evidence.batch_report.device_outcomes`: the
evidence decides, not the state column), so the reconciliation, the batch report and the
return report can never disagree: certified (a certificate of sanitization), destroyed (one of
destruction), failed (failed or interrupted, waiting for destruction) or in the pipeline.

An asset is missing while it is on the list and not received. A batch closes only when no
drive is in the pipeline and no listed asset is missing, unless the operator forces it and
says why; the reason goes into the log and the return report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import BatchClosed, BatchNotReconciled, IntakeError
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.batch_report import device_outcomes
from asset_pipeline.evidence.privacy import check_payload
from asset_pipeline.storage import Device, assets, batches
from asset_pipeline.storage.devices import batch_devices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Asset, Batch

# The batch report's outcome -> ours (the reconciliation speaks of drives being processed).
OUTCOMES = {
    "sanitized": "certified",
    "destroyed": "destroyed",
    "failed-pending": "failed",
    "in-progress": "in_pipeline",
}
MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class DriveStatus:
    """One drive of the batch and its outcome."""

    device_id: int
    asset_id: int | None
    asset_tag: str
    model: str
    serial: str
    capacity_bytes: int
    state: str
    reason: str
    outcome: str  # certified | destroyed | failed | in_pipeline
    method: dict[str, str] | None  # {"method": "Clear", "technique": "Overwrite"}, as reported
    certificate_id: str


@dataclass(frozen=True, slots=True)
class AssetStatus:
    """One asset of the batch and where it is."""

    asset_id: int
    asset_tag: str
    serial: str
    kind: str
    make: str
    model: str
    expected: bool
    status: str  # missing | received | in_pipeline | processed | released
    condition: str
    received_at: datetime | None
    destination: str
    released_at: datetime | None
    drives: list[int] = field(default_factory=list)  # device ids


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The batch's expected, received, processed, in-pipeline, missing and unexpected."""

    batch_id: int
    status: str  # open | closed
    closed_at: datetime | None
    close_reason: str
    counts: dict[str, int]
    assets: list[AssetStatus]
    drives: list[DriveStatus]

    @property
    def missing(self) -> list[AssetStatus]:
        """Listed assets that were never received."""
        return [a for a in self.assets if a.status == "missing"]

    @property
    def unexpected(self) -> list[AssetStatus]:
        """Received assets the customer's list does not name."""
        return [a for a in self.assets if not a.expected]

    @property
    def in_pipeline(self) -> list[DriveStatus]:
        """Drives not yet certified, destroyed or failed."""
        return [d for d in self.drives if d.outcome == "in_pipeline"]

    def blockers(self) -> list[str]:
        """Why the batch cannot close yet (empty when it can)."""
        found = []
        if self.in_pipeline:
            names = ", ".join(f"device {d.device_id} ({d.state})" for d in self.in_pipeline[:5])
            found.append(f"{len(self.in_pipeline)} device(s) mid-pipeline: {names}")
        if self.missing:
            names = ", ".join(_name(a) for a in self.missing[:5])
            found.append(f"{len(self.missing)} listed asset(s) not received: {names}")
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON form: counts, then each list the issue names, then every asset and drive."""

        def refs(rows: list[AssetStatus]) -> list[dict[str, Any]]:
            return [_asset_ref(a) for a in rows]

        drives = [_drive_dict(d) for d in self.drives]
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "closed_at": self.closed_at,
            "close_reason": self.close_reason,
            "counts": self.counts,
            "expected": refs([a for a in self.assets if a.expected]),
            "received": refs([a for a in self.assets if a.received_at is not None]),
            "processed": {
                outcome: [d for d in drives if d["outcome"] == outcome]
                for outcome in ("certified", "destroyed", "failed")
            },
            "in_pipeline": [d for d in drives if d["outcome"] == "in_pipeline"],
            "missing": refs(self.missing),
            "unexpected": refs(self.unexpected),
            "drives_without_asset": [d for d in drives if d["asset_id"] is None],
            "assets": [_asset_dict(a) for a in self.assets],
        }


def reconcile(session: Session, batch: Batch) -> Reconciliation:
    """The batch's reconciliation, from its assets, its devices and their evidence."""
    outcomes = {row["device_id"]: row for row in device_outcomes(session, batch)}
    drives = [_drive(device, outcomes[device.id]) for device in batch_devices(session, batch)]
    by_asset: dict[int, list[DriveStatus]] = {}
    for drive in drives:
        if drive.asset_id is not None:
            by_asset.setdefault(drive.asset_id, []).append(drive)
    rows = [_asset(a, by_asset.get(a.id, [])) for a in assets.batch_assets(session, batch)]
    return Reconciliation(
        batch_id=batch.id,
        status="open" if batch.is_open else "closed",
        closed_at=batch.closed_at,
        close_reason=batch.close_reason,
        counts=_counts(rows, drives),
        assets=rows,
        drives=drives,
    )


def close(
    session: Session, station: Station, batch: Batch, *, force: bool = False, reason: str = ""
) -> Reconciliation:
    """Close the batch once it reconciles; with `force`, close it anyway for `reason`.

    Raises:
        BatchClosed: it is closed already.
        BatchNotReconciled: a drive is mid-pipeline or a listed asset is missing, and the
            close is not forced.
        IntakeError: forced without a reason, or the reason is too long or looks like
            personal data.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is already closed")
    reason = " ".join(reason.split())
    if force and not reason:
        raise IntakeError("a forced close needs a reason (--reason TEXT)")
    if len(reason) > MAX_REASON:
        raise IntakeError(f"the reason is {len(reason)} characters; at most {MAX_REASON}")
    check_payload({"reason": reason}, where="close reason")
    before = reconcile(session, batch)
    blockers = before.blockers()
    if blockers and not force:
        raise BatchNotReconciled(
            f"batch {batch.id} cannot close: {'; '.join(blockers)}. Finish them, or close "
            "anyway with --force --reason TEXT"
        )
    batches.close_batch(session, batch)
    batch.close_reason = reason
    audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="batch.closed",
        payload={"forced": bool(blockers), "reason": reason, **before.counts},
        batch_id=batch.id,
    )
    session.flush()
    return reconcile(session, batch)


def _drive(device: Device, row: dict[str, Any]) -> DriveStatus:
    return DriveStatus(
        device_id=device.id,
        asset_id=device.asset_id,
        asset_tag=device.asset_tag,
        model=device.model,
        serial=device.serial,
        capacity_bytes=device.size_bytes,
        state=device.state,
        reason=device.state_reason,
        outcome=OUTCOMES[row["outcome"]],
        method=row["method"],
        certificate_id=row["certificate_id"],
    )


def _asset(asset: Asset, drives: list[DriveStatus]) -> AssetStatus:
    if asset.released_at is not None:
        status = "released"
    elif any(d.outcome == "in_pipeline" for d in drives):
        status = "in_pipeline"
    elif drives:
        status = "processed"
    elif asset.received:
        status = "received"
    else:
        status = "missing"
    return AssetStatus(
        asset_id=asset.id,
        asset_tag=asset.asset_tag,
        serial=asset.serial,
        kind=asset.kind,
        make=asset.make,
        model=asset.model,
        expected=asset.expected,
        status=status,
        condition=asset.condition,
        received_at=asset.received_at,
        destination=asset.destination,
        released_at=asset.released_at,
        drives=[d.device_id for d in drives],
    )


def _counts(rows: list[AssetStatus], drives: list[DriveStatus]) -> dict[str, int]:
    outcome = {o: sum(d.outcome == o for d in drives) for o in OUTCOMES.values()}
    return {
        "expected": sum(a.expected for a in rows),
        "received": sum(a.received_at is not None for a in rows),
        "missing": sum(a.status == "missing" for a in rows),
        "unexpected": sum(not a.expected for a in rows),
        "released": sum(a.released_at is not None for a in rows),
        "drives": len(drives),
        "processed": outcome["certified"] + outcome["destroyed"] + outcome["failed"],
        **outcome,
        "drives_without_asset": sum(d.asset_id is None for d in drives),
    }


def _name(asset: AssetStatus) -> str:
    return asset.asset_tag or asset.serial


def _asset_ref(asset: AssetStatus) -> dict[str, Any]:
    return {"asset_tag": asset.asset_tag, "serial": asset.serial, "kind": asset.kind,
            "model": asset.model, "status": asset.status}  # fmt: skip


def _asset_dict(asset: AssetStatus) -> dict[str, Any]:
    return asdict(asset)


def _drive_dict(drive: DriveStatus) -> dict[str, Any]:
    return asdict(drive)
