"""Devices the station knows: identity rows tied to a batch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.drives.discovery import Drive
from asset_pipeline.errors import BatchClosed, DeviceNotFound
from asset_pipeline.flow.states import State
from asset_pipeline.storage import Batch, Device


def new_device(session: Session, batch: Batch, drive: Drive) -> Device:
    """Store an identified drive as a new device of `batch`, without a state yet (flushed).

    Its first state (`detected`) and that event come from `flow.lifecycle.advance`.

    Raises:
        BatchClosed: the batch takes no more devices.
    """
    if not batch.is_open:
        raise BatchClosed(f"batch {batch.id} is closed; open a new batch for more devices")
    device = Device(batch=batch, state="")
    apply_identity(device, drive)
    session.add(device)
    session.flush()
    return device


def apply_identity(device: Device, drive: Drive) -> None:
    """Copy what identification found onto the device row (the full record in `identity`)."""
    device.path = drive.path
    device.kind = drive.kind
    device.transport = drive.transport
    device.model = drive.model
    device.serial = drive.serial
    device.firmware = drive.firmware
    device.wwn = drive.wwn
    device.size_bytes = drive.size_bytes
    device.logical_sector_size = drive.logical_sector_size
    device.physical_sector_size = drive.physical_sector_size
    device.rotational = drive.rotational
    device.removable = drive.removable
    device.media_type = drive.media_type
    device.identity = drive.to_dict()


def aborted_in_batch(session: Session, batch_id: int, serial: str) -> Device | None:
    """The batch's aborted record of the drive with `serial` (a drive plugged in again)."""
    if not serial:
        return None
    return session.scalar(
        select(Device)
        .where(
            Device.batch_id == batch_id,
            Device.serial == serial,
            Device.state == State.ABORTED.value,
        )
        .order_by(Device.id.desc())
    )


def finished_in_batch(session: Session, batch_id: int, serial: str) -> Device | None:
    """The batch's record of the drive with `serial` if it ended other than aborted."""
    if not serial:
        return None
    ends = (State.CERTIFIED, State.FAILED, State.DESTRUCTION_PENDING, State.DESTROYED)
    return session.scalar(
        select(Device)
        .where(
            Device.batch_id == batch_id,
            Device.serial == serial,
            Device.state.in_([s.value for s in ends]),
        )
        .order_by(Device.id.desc())
    )


def claimed_at_path(session: Session, path: str) -> list[Device]:
    """Devices at `path` that some station process has claimed."""
    query = select(Device).where(Device.path == path, Device.claimed_by != "")
    return list(session.scalars(query))


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
    query = select(Device).where(Device.batch_id == batch.id).order_by(Device.id)
    return list(session.scalars(query))
