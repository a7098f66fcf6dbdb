"""Devices the station has registered: identity rows tied to a batch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.devices import Drive
from asset_pipeline.errors import BatchClosed, DeviceNotFound
from asset_pipeline.storage import Batch, Device


def register_device(session: Session, batch: Batch, drive: Drive, *, asset_tag: str = "") -> Device:
    """Store an identified drive as a device of `batch` (state `registered`).

    Raises:
        BatchClosed: the batch takes no more devices.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is closed; open a new batch for more devices")
    device = Device(
        batch=batch,
        path=drive.path,
        kind=drive.kind,
        transport=drive.transport,
        model=drive.model,
        serial=drive.serial,
        firmware=drive.firmware,
        wwn=drive.wwn,
        size_bytes=drive.size_bytes,
        logical_sector_size=drive.logical_sector_size,
        physical_sector_size=drive.physical_sector_size,
        rotational=drive.rotational,
        removable=drive.removable,
        media_type=drive.media_type,
        asset_tag=asset_tag,
        state="registered",
        identity=drive.to_dict(),
    )
    session.add(device)
    session.flush()
    return device


def find_device(session: Session, device_id: int) -> Device:
    """A device by id.

    Raises:
        DeviceNotFound: no such device.
    """
    device = session.get(Device, device_id)
    if device is None:
        raise DeviceNotFound(device_id)
    return device


def batch_devices(session: Session, batch: Batch) -> list[Device]:
    """The devices of a batch in registration order."""
    return list(
        session.scalars(select(Device).where(Device.batch_id == batch.id).order_by(Device.id))
    )
