"""Customer assets of a batch, their list imports and their custody records (rows only).

An asset's `key` is its identity inside the batch: the asset tag when it has one, else its
serial, folded to lower case, so the same machine is one row however often its list is
imported or its barcode scanned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from asset_pipeline.errors import AssetNotFound
from asset_pipeline.storage.models import Asset, Batch, CustodyEvent, Device, Manifest


def asset_key(asset_tag: str, serial: str) -> str:
    """The identity of an asset in its batch: "tag:<tag>", else "serial:<serial>"."""
    tag, serial = asset_tag.strip().casefold(), serial.strip().casefold()
    if tag:
        return f"tag:{tag}"
    if serial:
        return f"serial:{serial}"
    raise ValueError("an asset needs an asset tag or a serial")


def by_key(session: Session, batch: Batch, key: str) -> Asset | None:
    """The batch's asset with this key, if any."""
    return session.scalar(select(Asset).where(Asset.batch_id == batch.id, Asset.key == key))


def match_code(session: Session, batch: Batch, code: str) -> Asset | None:
    """The batch's asset whose tag or serial is `code` (a scanned barcode), tag first."""
    folded = code.strip().casefold()
    if not folded:
        return None
    found = list(
        session.scalars(
            select(Asset)
            .where(
                Asset.batch_id == batch.id,
                or_(func.lower(Asset.asset_tag) == folded, func.lower(Asset.serial) == folded),
            )
            .order_by(Asset.id)
        )
    )
    # SQL lower() folds ASCII only on SQLite; compare the Unicode case-fold here as well.
    exact = [a for a in found if a.asset_tag.casefold() == folded]
    exact = exact or [a for a in found if a.serial.casefold() == folded]
    if exact:
        return exact[0]
    return _match_unicode(session, batch, folded)


def _match_unicode(session: Session, batch: Batch, folded: str) -> Asset | None:
    if folded.isascii():
        return None
    for asset in batch_assets(session, batch):
        if folded in (asset.asset_tag.casefold(), asset.serial.casefold()):
            return asset
    return None


def find_asset(session: Session, batch: Batch, code: str) -> Asset:
    """The batch's asset with tag or serial `code`.

    Raises:
        AssetNotFound: no asset of the batch has it.
    """
    asset = match_code(session, batch, code)
    if asset is None:
        raise AssetNotFound(f"{code} in batch {batch.id}")
    return asset


def batch_assets(session: Session, batch: Batch) -> list[Asset]:
    """The batch's assets: the list's rows in their order, then assets found unexpectedly."""
    query = select(Asset).where(Asset.batch_id == batch.id)
    rows = list(session.scalars(query.order_by(Asset.id)))
    return sorted(rows, key=lambda a: (not a.expected, a.manifest_row or 0, a.id))


def asset_devices(session: Session, asset: Asset) -> list[Device]:
    """The drives linked to an asset, in the order they were registered."""
    query = select(Device).where(Device.asset_id == asset.id).order_by(Device.id)
    return list(session.scalars(query))


def latest_manifest(session: Session, batch: Batch) -> Manifest | None:
    """The list import in force for the batch (the newest), if any."""
    query = select(Manifest).where(Manifest.batch_id == batch.id)
    return session.scalar(query.order_by(Manifest.id.desc()).limit(1))


def add_custody_row(
    session: Session,
    asset: Asset,
    step: str,
    *,
    operator: str,
    audit_seq: int,
    occurred_at: datetime,
    device_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Store one custody step of `asset` (the caller logs the same step; see `intake.custody`)."""
    row = CustodyEvent(
        asset=asset,
        step=step,
        operator=operator,
        audit_seq=audit_seq,
        occurred_at=occurred_at,
        device_id=device_id,
        detail=dict(detail or {}),
    )
    session.add(row)
    session.flush()
    return row


def custody_of(session: Session, asset: Asset) -> list[CustodyEvent]:
    """An asset's custody steps, in the order they happened."""
    query = select(CustodyEvent).where(CustodyEvent.asset_id == asset.id)
    return list(session.scalars(query.order_by(CustodyEvent.id)))
