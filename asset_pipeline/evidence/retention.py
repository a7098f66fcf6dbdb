"""Retention: what the station keeps for an agreement's period, and what is past it.

A batch's evidence (certificates, reports and their files, its processing-log events, scan
summaries) is kept for the agreement's `retention_years`, counted from the day the batch was
closed. An open batch is never past retention. Only listing is implemented: removing log
events would break the hash chain for every later event, so a real purge needs a chain
checkpoint first (see the issue note).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_pipeline.evidence import audit
from asset_pipeline.storage import AuditEvent, Batch, Certificate, Device, ScanSummary
from asset_pipeline.storage.batches import list_batches

if TYPE_CHECKING:
    from asset_pipeline.station.context import Station


@dataclass(frozen=True, slots=True)
class RetentionItem:
    """One record (or group of records) whose retention period has ended."""

    batch_id: int
    agreement: str
    kept_until: date
    kind: str  # certificate | destruction | batch_report | audit_events | scan_summaries
    identifier: str  # certificate id, or "<n> events (seq a-b)"
    files: tuple[str, ...] = ()


def retention_end(batch: Batch) -> date | None:
    """The last day a closed batch's evidence must be kept; None while the batch is open."""
    if batch.closed_at is None:
        return None
    closed = batch.closed_at.date()
    years = batch.agreement.retention_years
    try:
        return closed.replace(year=closed.year + years)
    except ValueError:  # 29 February in a year that has none
        return closed.replace(year=closed.year + years, day=28)


def past_retention(session: Session, station: Station, *, as_of: date) -> list[RetentionItem]:
    """Everything whose retention ended before `as_of`, batch by batch."""
    items: list[RetentionItem] = []
    for batch in list_batches(session):
        end = retention_end(batch)
        if end is None or end >= as_of:
            continue
        ref = batch.agreement.reference
        for cert in session.scalars(
            select(Certificate).where(Certificate.batch_id == batch.id).order_by(Certificate.id)
        ):
            reports = cert.kind in ("batch_report", "return_report")
            directory = station.reports_dir if reports else station.certificates_dir
            files = tuple(
                str(p)
                for p in (directory / f"{cert.cert_id}.json", directory / f"{cert.cert_id}.pdf")
                if p.exists()
            )
            items.append(RetentionItem(batch.id, ref, end, cert.kind, cert.cert_id, files))
        items += _event_items(session, batch, ref, end)
    return items


def _event_items(session: Session, batch: Batch, ref: str, end: date) -> list[RetentionItem]:
    devices = select(Device.id).where(Device.batch_id == batch.id)
    count, first, last = session.execute(
        select(func.count(), func.min(AuditEvent.seq), func.max(AuditEvent.seq)).where(
            audit.of_batch(batch.id)
        )
    ).one()
    scans = session.scalar(
        select(func.count()).select_from(ScanSummary).where(ScanSummary.device_id.in_(devices))
    )
    items = []
    if count:
        items.append(
            RetentionItem(
                batch.id, ref, end, "audit_events", f"{count} events (seq {first}-{last})"
            )
        )
    if scans:
        items.append(RetentionItem(batch.id, ref, end, "scan_summaries", f"{scans} summaries"))
    return items
