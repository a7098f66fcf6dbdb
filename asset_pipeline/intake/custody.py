"""Recording an asset's chain of custody: each step a row and an event in the processing log.

The steps follow the asset through the workshop, as certification schemes for IT asset recovery
audit them: received (scanned in, with its condition), a drive taken out of it (or processed in
place, when the station runs on the asset), each drive processed (its outcome and certificate),
and the asset released to refurbishment, recycling or destruction.

The log event (`custody.<step>`, appended through `evidence.audit.append_event`) is the
tamper-evident record; the `custody_event` row is the index the return report reads, and it
carries the event's seq so the two can be checked against each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asset_pipeline.evidence import audit
from asset_pipeline.storage import assets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Asset, CustodyEvent

STEPS = (
    "received",  # scanned in at the goods reception (or seen by the station running on it)
    "condition",  # its condition noted again after receiving
    "drive_removed",  # a drive taken out of it and put in a bay
    "drive_in_place",  # a drive processed inside it (the station booted on the asset)
    "drive_processed",  # a drive's pipeline ended: certified, failed or destroyed
    "released",  # handed on to refurbishment, recycling or destruction
)
DESTINATIONS = ("refurbish", "recycle", "destroy")


def record(
    session: Session,
    station: Station,
    asset: Asset,
    step: str,
    *,
    device_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CustodyEvent:
    """Log one custody step of `asset` and store its row, in the caller's transaction.

    Args:
        session: the caller's session; the log stays locked until it commits.
        station: who records it (station id and operator).
        asset: the asset the step belongs to (flushed, so it has an id).
        step: one of `STEPS`.
        device_id: the drive the step concerns, if any.
        detail: short technical facts (condition, outcome, certificate id, destination);
            strings that look like personal data are withheld by the log's privacy check.

    Raises:
        ValueError: `step` is not one of `STEPS`.
    """
    if step not in STEPS:
        raise ValueError(f"custody step {step!r} is not one of {', '.join(STEPS)}")
    payload = {
        "asset_id": asset.id,
        "asset_tag": asset.asset_tag,
        "serial": asset.serial,
        **(detail or {}),
    }
    event = audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type=f"custody.{step}",
        payload=payload,
        batch_id=asset.batch_id,
        device_id=device_id,
    )
    kept = {k: v for k, v in event.payload.items() if k not in ("asset_id", "asset_tag", "serial")}
    return assets.add_custody_row(
        session,
        asset,
        step,
        operator=event.operator,
        audit_seq=event.seq,
        occurred_at=event.occurred_at,
        device_id=device_id,
        detail=kept,
    )
