"""Scan summaries: one row per finished scan of a device (counts and places, never values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from asset_pipeline.errors import PipelineError
from asset_pipeline.storage.models import Device, ScanSummary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from scanners import ScanReport

PHASES = ("pre", "post", "adhoc")


def store_scan(session: Session, device_id: int, phase: str, report: ScanReport) -> ScanSummary:
    """Add the `ScanSummary` row of a finished scan (flushed; the caller commits).

    Raises:
        PipelineError: unknown phase.
    """
    check_phase(phase)
    row = ScanSummary(
        device_id=device_id,
        phase=phase,
        target=report.target,
        total_findings=report.total_findings,
        report=report.to_dict(),
    )
    session.add(row)
    session.flush()
    return row


def check_phase(phase: str) -> None:
    """Raise unless `phase` is one of `PHASES`.

    Raises:
        PipelineError: unknown phase.
    """
    if phase not in PHASES:
        raise PipelineError(f"unknown scan phase {phase!r}; expected one of {', '.join(PHASES)}")


def latest_scan(session: Session, device: Device, phase: str) -> dict[str, Any] | None:
    """The report JSON of the device's newest scan in `phase` (pre | post)."""
    row = session.scalar(
        select(ScanSummary)
        .where(ScanSummary.device_id == device.id, ScanSummary.phase == phase)
        .order_by(ScanSummary.id.desc())
    )
    return dict(row.report) if row is not None else None


def scan_counts(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Per-category counts and the number of unreadable regions of a scan report."""
    if report is None:
        return None
    return {
        "findings": {k: v.get("count", 0) for k, v in report.get("findings", {}).items()},
        "not_scannable": len(report.get("not_scannable", [])),
    }
