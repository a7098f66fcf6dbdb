"""The demo: a synthetic customer drive taken through the station, start to finish."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from asset_pipeline import devices, inventory, loopdev, records
from asset_pipeline.demo_drive import build_demo_drive
from asset_pipeline.station import Station
from asset_pipeline.storage import Agreement, Customer

DEMO_CUSTOMER = "Demokommunen"
DEMO_ORG_NUMBER = "212000-0142"
DEMO_AGREEMENT = "DEMO-DPA-2026"


@dataclass
class DemoOutcome:
    """What the demo did, for the CLI to render."""

    image: str
    target: str
    attached_as_loop: bool
    batch_id: int
    device_id: int
    device: dict[str, Any]
    planted: dict[str, int]
    planted_deleted: dict[str, int]
    steps: list[str] = field(default_factory=list)


def ensure_demo_agreement(station: Station) -> int:
    """Get or create the demo customer and agreement; return the agreement id."""
    with station.session() as session:
        agreement = session.scalar(select(Agreement).where(Agreement.reference == DEMO_AGREEMENT))
        if agreement is None:
            customer = session.scalar(select(Customer).where(Customer.name == DEMO_CUSTOMER))
            if customer is None:
                customer = records.add_customer(session, DEMO_CUSTOMER, DEMO_ORG_NUMBER)
            agreement = records.add_agreement(
                session,
                customer=customer,
                reference=DEMO_AGREEMENT,
                required_level="clear",
                discovery_instructed=True,
                retention_years=7,
            )
        return agreement.id


def run_demo(
    station: Station, *, use_loop: bool | None = None, note: Callable[[str], None] = lambda _: None
) -> DemoOutcome:
    """Build a synthetic drive, register it in a new demo batch and identify it.

    Args:
        station: the station to record everything in.
        use_loop: attach the image as a loop device (default: when running as root).
        note: receives one line per step, for progress output.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    image = station.data_dir / "demo" / f"customer-drive-{stamp}.img"
    steps: list[str] = []

    def step(text: str) -> None:
        steps.append(text)
        note(text)

    drive_image = build_demo_drive(image)
    step(f"built synthetic customer drive {image} ({drive_image.size_bytes // 2**20} MiB)")
    agreement_id = ensure_demo_agreement(station)
    with station.session() as session:
        agreement = records.find_agreement(session, str(agreement_id))
        batch_id = records.open_batch(session, agreement, order_number=f"DEMO-{stamp}").id
    step(f"opened batch {batch_id} under agreement {DEMO_AGREEMENT}")

    attach = loopdev.can_attach() if use_loop is None else use_loop
    with ExitStack() as stack:
        target = stack.enter_context(loopdev.attached(image)) if attach else str(image)
        if attach:
            step(f"attached the image as {target}")
        drive = devices.identify(target)
        step(f"identified {target}: {drive.transport}, {drive.size_bytes} bytes")
        with station.session() as session:
            batch = records.find_batch(session, batch_id)
            device = inventory.register_device(session, batch, drive)
            device_id = device.id
        step(f"registered device {device_id} in batch {batch_id}")
    return DemoOutcome(
        image=str(image),
        target=target,
        attached_as_loop=attach,
        batch_id=batch_id,
        device_id=device_id,
        device=drive.to_dict(),
        planted=dict(drive_image.planted.totals),
        planted_deleted=dict(drive_image.planted.deleted),
        steps=steps,
    )
