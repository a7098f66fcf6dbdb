"""Sanitization records: the state of every wipe is stored before it starts and when it ends.

A row is written as `running` before the first byte is touched, so a crash leaves a visible
unfinished wipe; the final outcome and the full result JSON replace it at the end. A rerun
simply adds a new row: nothing in an old one blocks it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.storage.models import Device, Sanitization, utcnow


def start_record(
    session: Session,
    *,
    level: str,
    method: str,
    identity: dict[str, Any] | None = None,
    device_id: int | None = None,
) -> int:
    """Store a `running` sanitization and return its id.

    A registered device is named by `device_id`; an ad-hoc wipe keeps the target's `identity`.
    """
    row = Sanitization(
        device_id=device_id,
        level=level,
        method=method,
        outcome="running",
        result={} if identity is None else {"identity": identity},
    )
    session.add(row)
    session.flush()
    return row.id


def finish_record(
    session: Session, record_id: int, *, outcome: str, result: dict[str, Any]
) -> None:
    """Store the final outcome and result of a sanitization."""
    row = session.get(Sanitization, record_id)
    if row is None:  # pragma: no cover - the row was written by start_record in this process
        return
    kept = {"identity": row.result["identity"]} if "identity" in row.result else {}
    row.outcome = outcome
    row.result = {**kept, **result}
    row.ended_at = utcnow()


def record_destroy_plan(session: Session, device_id: int, plan: dict[str, Any]) -> None:
    """Store a plan that ends in destroy: nothing was written, so it is `failed` at once."""
    session.add(
        Sanitization(
            device_id=device_id,
            level=plan["level"],
            method="destroy",
            outcome="failed",
            result={"plan": plan},
            ended_at=utcnow(),
        )
    )


def close_interrupted_wipes(session: Session, device: Device) -> None:
    """Mark wipes left `running` by a dead process as `interrupted` before a repeat."""
    rows = session.scalars(
        select(Sanitization).where(
            Sanitization.device_id == device.id, Sanitization.outcome == "running"
        )
    )
    for row in rows:
        row.outcome = "interrupted"
        row.ended_at = utcnow()


def latest_passed_wipe(session: Session, device: Device) -> dict[str, Any] | None:
    """The result JSON of the device's newest passed sanitization."""
    row = session.scalar(
        select(Sanitization)
        .where(Sanitization.device_id == device.id, Sanitization.outcome == "passed")
        .order_by(Sanitization.id.desc())
    )
    return dict(row.result) if row is not None else None


def latest_plan(session: Session, device: Device) -> dict[str, Any] | None:
    """The plan of the device's newest sanitization record (destroy plans included)."""
    row = session.scalar(
        select(Sanitization)
        .where(Sanitization.device_id == device.id)
        .order_by(Sanitization.id.desc())
    )
    return dict(row.result.get("plan") or {}) if row is not None else None
