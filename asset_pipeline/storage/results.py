"""A device's stored step results: its latest wipe and scans, as the certificate needs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.storage import Certificate, Device, Sanitization, ScanSummary, utcnow


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


def latest_scan(session: Session, device: Device, phase: str) -> dict[str, Any] | None:
    """The report JSON of the device's newest scan in `phase` (pre | post)."""
    row = session.scalar(
        select(ScanSummary)
        .where(ScanSummary.device_id == device.id, ScanSummary.phase == phase)
        .order_by(ScanSummary.id.desc())
    )
    return dict(row.report) if row is not None else None


def sanitization_certificate(session: Session, device: Device) -> Certificate | None:
    """The device's newest certificate of sanitization."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.device_id == device.id, Certificate.kind == "sanitization")
        .order_by(Certificate.id.desc())
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


def scan_counts(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Per-category counts and the number of unreadable regions of a scan report."""
    if report is None:
        return None
    return {
        "findings": {k: v.get("count", 0) for k, v in report.get("findings", {}).items()},
        "not_scannable": len(report.get("not_scannable", [])),
    }
