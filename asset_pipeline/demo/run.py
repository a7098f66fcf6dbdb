"""The demo: a synthetic customer drive taken through the whole station, plug to certificate."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from asset_pipeline.demo.drive import build_demo_drive
from asset_pipeline.drives import loopdev
from asset_pipeline.evidence import batch_report
from asset_pipeline.flow import pipeline
from asset_pipeline.station.context import Station
from asset_pipeline.station.identity import update_identity
from asset_pipeline.storage import Agreement, Customer, Operator, batches, operators

DEMO_ORGANIZATION = "Demo Återbruk AB"
DEMO_OPERATOR = ("Demo Operatör", "Tekniker (demo)", "demo@example.invalid")
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
    device: pipeline.Outcome
    planted: dict[str, int]
    planted_deleted: dict[str, int]
    report_json: str = ""
    report_pdf: str = ""
    steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for `demo --json`."""
        return {
            "image": self.image,
            "target": self.target,
            "attached_as_loop": self.attached_as_loop,
            "batch_id": self.batch_id,
            "device": vars(self.device),
            "planted": self.planted,
            "planted_deleted": self.planted_deleted,
            "report_json": self.report_json,
            "report_pdf": self.report_pdf,
            "steps": self.steps,
        }


def ensure_demo_identity(station: Station) -> None:
    """Certificates name a real organisation and a registered person: the demo brings its own.

    A station still named after the placeholder organisation is named `DEMO_ORGANIZATION`
    (logged, as `init` would); the demo's runs are made by its own registered operator, so a
    real station's default operator is neither needed nor changed.
    """
    if station.config.is_placeholder:
        update_identity(station, station.config, {"organization": DEMO_ORGANIZATION})
    name, title, contact = DEMO_OPERATOR
    with station.session() as session:
        if session.scalar(select(Operator).where(Operator.name == name)) is None:
            operators.add_operator(session, name, title=title, contact=contact)
    station.operator_override = name


def ensure_demo_agreement(station: Station) -> int:
    """Get or create the demo customer and agreement; return the agreement id."""
    with station.session() as session:
        agreement = session.scalar(select(Agreement).where(Agreement.reference == DEMO_AGREEMENT))
        if agreement is None:
            customer = session.scalar(select(Customer).where(Customer.name == DEMO_CUSTOMER))
            if customer is None:
                customer = batches.add_customer(session, DEMO_CUSTOMER, DEMO_ORG_NUMBER)
            agreement = batches.add_agreement(
                session,
                customer=customer,
                reference=DEMO_AGREEMENT,
                required_level="clear",
                discovery_instructed=True,
                retention_years=7,
            )
        return agreement.id


def run_demo(
    station: Station,
    *,
    use_loop: bool | None = None,
    note: Callable[[str], None] = lambda _: None,
    report: pipeline.Reporter | None = None,
) -> DemoOutcome:
    """Build a synthetic drive, process it in a new demo batch and issue the batch report.

    Args:
        station: the station to record everything in.
        use_loop: attach the image as a loop device (default: when running as root).
        note: receives one line per demo step.
        report: receives the pipeline's progress.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    image = station.data_dir / "demo" / f"customer-drive-{stamp}.img"
    steps: list[str] = []

    def step(text: str) -> None:
        steps.append(text)
        note(text)

    ensure_demo_identity(station)
    drive_image = build_demo_drive(image)
    step(f"built synthetic customer drive {image} ({drive_image.size_bytes // 2**20} MiB)")
    agreement_id = ensure_demo_agreement(station)
    with station.session() as session:
        agreement = batches.find_agreement(session, str(agreement_id))
        batch_id = batches.open_batch(session, agreement, order_number=f"DEMO-{stamp}").id
    step(f"opened batch {batch_id} under agreement {DEMO_AGREEMENT}")

    attach = loopdev.can_attach() if use_loop is None else use_loop
    with ExitStack() as stack:
        target = stack.enter_context(loopdev.attached(image)) if attach else str(image)
        if attach:
            step(f"attached the image as {target}")
        outcome = pipeline.process(station, target, batch_id, report=report)
    step(f"device {outcome.device_id} ended {outcome.state}" + (
        f": {outcome.reason}" if outcome.reason else ""
    ))  # fmt: skip
    with station.session() as session:
        issued = batch_report.issue_batch_report(
            session, station, batches.find_batch(session, batch_id)
        )
    step(f"issued batch report {issued.report_id}")
    return DemoOutcome(
        image=str(image),
        target=target,
        attached_as_loop=attach,
        batch_id=batch_id,
        device=outcome,
        planted=dict(drive_image.planted.totals),
        planted_deleted=dict(drive_image.planted.deleted),
        report_json=str(issued.json_path),
        report_pdf=str(issued.pdf_path),
        steps=steps,
    )
