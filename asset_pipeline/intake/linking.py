"""Drives linked to the assets they came from, and the custody steps that link records.

A drive is linked when the pipeline registers it with an asset (`process --asset TAG`, a bay
of `watch --require-tag`, or the station running on the asset itself, identified by SMBIOS).
The device row then carries the asset's id and tag, so the certificate names the asset, and
the asset's custody gains "drive removed" (or "drive processed in place"). When the drive's
run ends (certified, failed, destroyed), "drive processed" follows with its outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import AssetNotFound
from asset_pipeline.intake import custody, receiving
from asset_pipeline.storage import Asset, assets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.intake.dmi import MachineIdentity
    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Batch, Device

# Device states after which a drive counts as processed, and the outcome the custody names.
PROCESSED = {"certified": "certified", "failed": "failed", "destroyed": "destroyed"}


def asset_for(
    session: Session,
    station: Station,
    batch: Batch,
    code: str | None = None,
    *,
    identity: MachineIdentity | None = None,
) -> Asset:
    """The asset a drive is about to be linked to, received now if it was not yet.

    A code scanned at the bay must be on the batch's list (or received before as unexpected),
    so that a mistyped tag never creates an asset. The machine the station runs on is received
    through its SMBIOS identity, unexpected if the list does not name it.

    Raises:
        AssetNotFound: `code` names no asset of the batch.
        BatchClosed: the batch is closed.
    """
    if identity is not None:
        receipt = receiving.receive_machine(session, station, batch, identity)
        return session.get(Asset, receipt.asset_id)  # type: ignore[return-value]
    asset = assets.match_code(session, batch, code or "")
    if asset is None:
        raise AssetNotFound(
            f"{code} in batch {batch.id} (receive it first: intake receive {batch.id} --tag {code})"
        )
    if not asset.received:
        receiving.receive(session, station, batch, code or "", via="bay")
    return asset


def link(
    session: Session, station: Station, device: Device, asset: Asset, *, in_place: bool = False
) -> None:
    """Link `device` to `asset` and record the custody step (in the caller's transaction)."""
    device.asset_id = asset.id
    device.asset_tag = asset.asset_tag
    machine = " ".join(p for p in (asset.make, asset.model) if p)
    serial = f"serial {asset.serial}" if asset.serial else ""
    device.source_machine = ", ".join(p for p in (machine, serial) if p)[:200]
    custody.record(session, station, asset, "drive_in_place" if in_place else "drive_removed",
                   device_id=device.id,
                   detail={"drive_serial": device.serial, "drive_model": device.model})  # fmt: skip


def drive_processed(
    session: Session,
    station: Station,
    device: Device,
    state: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Record the custody step for a linked drive whose run ended in `state`; else nothing."""
    outcome = PROCESSED.get(state)
    if outcome is None or device.asset_id is None:
        return
    asset = session.get(Asset, device.asset_id)
    if asset is None:
        return
    detail: dict[str, Any] = {"outcome": outcome, "drive_serial": device.serial}
    certificate = (payload or {}).get("certificate_id")
    if certificate:
        detail["certificate_id"] = certificate
    if device.state_reason and outcome == "failed":
        detail["reason"] = device.state_reason
    custody.record(session, station, asset, "drive_processed", device_id=device.id,
                   detail=detail)  # fmt: skip
