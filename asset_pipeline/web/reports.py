"""What a batch's access token opens: the batch's reports and its devices' certificates.

Everything here starts from the token: without one that hashes to a stored value, nothing is
looked up by any id the client sends, so a report id of another customer's batch gets the same
answer as an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from asset_pipeline.evidence.batch_report import device_outcomes, totals
from asset_pipeline.storage import Batch, Certificate
from asset_pipeline.storage.access import batch_for_token

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEVICE_KINDS = ("sanitization", "destruction")


@dataclass(frozen=True, slots=True)
class Document:
    """A signed document of the batch, as listed on the page."""

    document_id: str
    kind: str
    sha256: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """One device of the batch, with the link to its certificate's page."""

    model: str
    serial: str
    asset_tag: str
    outcome: str
    method: str
    certificate: Document | None


@dataclass(frozen=True)
class BatchView:
    """The page a valid token opens."""

    batch_id: int
    customer: str
    agreement: str
    order_number: str
    opened_at: datetime
    closed_at: datetime | None
    totals: dict[str, int]
    reports: list[Document]
    devices: list[DeviceLine]


def batch_view(session: Session, token: str) -> BatchView | None:
    """The batch the token opens, or None for a malformed or unknown token."""
    batch = batch_for_token(session, token)
    if batch is None:
        return None
    documents = _documents(session, batch)
    by_id = {d.document_id: d for d in documents}
    rows = device_outcomes(session, batch)
    devices = [
        DeviceLine(row["model"], row["serial"], row["asset_tag"], row["outcome"], row["method"],
                   by_id.get(row["certificate_id"]))
        for row in rows
    ]  # fmt: skip
    agreement = batch.agreement
    return BatchView(
        batch_id=batch.id,
        customer=agreement.customer.name,
        agreement=agreement.reference,
        order_number=batch.order_number,
        opened_at=batch.opened_at,
        closed_at=batch.closed_at,
        totals=totals(rows),
        reports=[d for d in documents if d.kind not in DEVICE_KINDS],
        devices=devices,
    )


def batch_document(session: Session, token: str, document_id: str) -> bytes | None:
    """The signed JSON of one of the token's batch's documents, or None (no such, or not its)."""
    batch = batch_for_token(session, token)
    if batch is None:
        return None
    row = session.scalar(
        select(Certificate).where(
            Certificate.batch_id == batch.id, Certificate.cert_id == document_id[:64]
        )
    )
    return row.document.encode("utf-8") if row is not None else None


def _documents(session: Session, batch: Batch) -> list[Document]:
    query = (
        select(Certificate.cert_id, Certificate.kind, Certificate.sha256, Certificate.created_at)
        .where(Certificate.batch_id == batch.id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return [Document(*row) for row in session.execute(query)]
