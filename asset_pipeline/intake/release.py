"""Releasing an asset to its destination: refurbishment, recycling or destruction.

The last custody step. An asset leaves the workshop with data on it only through destruction:
to refurbishment or recycling, every drive linked to it must be certified (sanitized) or
destroyed, and an asset with no processed drive needs the operator to say it holds no storage.
No asset is released while one of its drives is still in the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asset_pipeline.errors import CustodyRefused, IntakeError
from asset_pipeline.evidence.batch_report import device_outcomes
from asset_pipeline.intake import custody
from asset_pipeline.intake.custody import DESTINATIONS
from asset_pipeline.intake.reconcile import OUTCOMES
from asset_pipeline.storage import assets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Asset, Batch


def release(
    session: Session,
    station: Station,
    batch: Batch,
    code: str,
    destination: str,
    *,
    no_storage: bool = False,
) -> Asset:
    """Record that the asset with tag or serial `code` leaves for `destination`.

    Raises:
        AssetNotFound: no asset of the batch has this tag or serial.
        IntakeError: `destination` is not one of `DESTINATIONS`.
        CustodyRefused: not received, already released, a drive is still in the pipeline,
            or (to refurbishment or recycling) a drive was neither certified nor destroyed,
            or no drive was processed and `no_storage` was not given.
    """
    if destination not in DESTINATIONS:
        raise IntakeError(f"destination {destination!r} is not one of {', '.join(DESTINATIONS)}")
    asset = assets.find_asset(session, batch, code)
    name = asset.asset_tag or asset.serial
    if not asset.received:
        raise CustodyRefused(f"asset {name} was never received; receive it first")
    if asset.released_at is not None:
        raise CustodyRefused(
            f"asset {name} was already released to {asset.destination} "
            f"on {asset.released_at:%Y-%m-%d %H:%M}Z"
        )
    linked = {d.id for d in assets.asset_devices(session, asset)}
    outcomes = [
        (row["device_id"], OUTCOMES[row["outcome"]])
        for row in device_outcomes(session, batch)
        if row["device_id"] in linked
    ]
    for device_id, outcome in outcomes:
        if outcome == "in_pipeline":
            raise CustodyRefused(f"device {device_id} of asset {name} is still in the pipeline")
        if destination != "destroy" and outcome not in ("certified", "destroyed"):
            raise CustodyRefused(
                f"device {device_id} of asset {name} is {outcome} and was not destroyed: record "
                "its destruction (cert destroy) or release the asset to destroy"
            )
    if destination != "destroy" and not outcomes and not no_storage:
        raise CustodyRefused(
            f"no drive of asset {name} was processed: process its drives (process --asset "
            f"{name}), or say it holds no storage (--no-storage)"
        )
    event = custody.record(session, station, asset, "released",
                           detail={"destination": destination, "drives": len(outcomes),
                                   "no_storage": no_storage and not outcomes})  # fmt: skip
    asset.destination, asset.released_at = destination, event.occurred_at
    session.flush()
    return asset
