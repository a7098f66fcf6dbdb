"""The batch report: every device of a batch with its outcome, signed like a certificate.

A device's outcome comes from the evidence, not from its state column: a certificate of
sanitization makes it `sanitized`, one of destruction `destroyed`; a failed or aborted device
without either is `failed-pending` (waiting for destruction); anything else is `in-progress`.
Issuing a report appends a `batch.reported` event and seals the report to it: the report
carries that event, the station's signed tree head covering it, and its inclusion proof
(`heads.seal`), so the report also anchors the station's whole log up to that point.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit import iso_utc
from asset_pipeline.evidence.content import customer_binding
from asset_pipeline.evidence.heads import seal
from asset_pipeline.evidence.issuing import issuer, new_id, store_signed
from asset_pipeline.evidence.signing import BATCH_REPORT, SCHEMAS, SignedDocument
from asset_pipeline.flow.states import DESTROYABLE, State
from asset_pipeline.storage import Batch, Certificate, Device, utcnow
from asset_pipeline.storage.devices import batch_devices

if TYPE_CHECKING:
    from asset_pipeline.station.context import Station

OUTCOMES = ("sanitized", "destroyed", "failed-pending", "in-progress")
CSV_COLUMNS = (
    "device_id",
    "model",
    "serial",
    "asset_tag",
    "media_type",
    "capacity_bytes",
    "outcome",
    "method",
    "certificate_id",
)


@dataclass(frozen=True)
class IssuedReport:
    """A batch report that was signed, stored and written."""

    report_id: str
    json_path: Path
    pdf_path: Path
    signed: SignedDocument


def device_outcomes(session: Session, batch: Batch) -> list[dict[str, Any]]:
    """One row per device of the batch: identity, outcome, method and certificate id."""
    rows = []
    by_device = _certificates_by_device(session, batch)  # one query, not one per device
    for device in batch_devices(session, batch):
        certs = {c.kind: c for c in by_device.get(device.id, [])}
        outcome, method, cert_id = _outcome(device, certs)
        rows.append(
            {
                "device_id": device.id,
                "model": device.model,
                "serial": device.serial,
                "asset_tag": device.asset_tag,
                "media_type": device.media_type,
                "capacity_bytes": device.size_bytes,
                "outcome": outcome,
                "method": method,
                "certificate_id": cert_id,
            }
        )
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Device counts per outcome."""
    counts = {o.replace("-", "_"): 0 for o in OUTCOMES}
    for row in rows:
        counts[row["outcome"].replace("-", "_")] += 1
    return {"devices": len(rows), **counts}


def batch_report_document(session: Session, station: Station, batch: Batch) -> dict[str, Any]:
    """The unsigned report (without its id, time and seal)."""
    rows = device_outcomes(session, batch)
    return {
        "issuer": issuer(station),
        "customer": customer_binding(batch),
        "batch": {
            "id": batch.id,
            "order_number": batch.order_number,
            "opened_at": iso_utc(batch.opened_at),
            "closed_at": iso_utc(batch.closed_at) if batch.closed_at else None,
        },
        "devices": rows,
        "totals": totals(rows),
    }


def issue_batch_report(session: Session, station: Station, batch: Batch) -> IssuedReport:
    """Sign, store and write the batch's report (`<data-dir>/reports/<id>.json` and `.pdf`)."""
    body = batch_report_document(session, station, batch)
    report_id = new_id("batch_report")
    event = audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="batch.reported",
        payload={"report_id": report_id, **body["totals"]},
        batch_id=batch.id,
    )
    unsigned = {
        "schema": BATCH_REPORT,
        "schema_version": SCHEMAS[BATCH_REPORT],
        "id": report_id,
        "kind": "batch_report",
        "issued_at": iso_utc(utcnow()),
        **seal(session, station, event),
        **body,
    }
    signed, json_path, pdf_path = store_signed(
        session, station, station.reports_dir, unsigned, kind="batch_report", batch_id=batch.id
    )
    session.flush()
    return IssuedReport(report_id, json_path, pdf_path, signed)


def report_csv(document: dict[str, Any]) -> str:
    """The report's device rows as CSV, then a blank line and the totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in document["devices"]:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    writer.writerow([])
    writer.writerow(list(document["totals"]))
    writer.writerow(list(document["totals"].values()))
    return out.getvalue()


def _certificates_by_device(session: Session, batch: Batch) -> dict[int, list[Certificate]]:
    query = select(Certificate).where(Certificate.batch_id == batch.id).order_by(Certificate.id)
    found: dict[int, list[Certificate]] = {}
    for cert in session.scalars(query):
        if cert.device_id is not None:
            found.setdefault(cert.device_id, []).append(cert)
    return found


def _outcome(
    device: Device, certs: dict[str, Certificate]
) -> tuple[str, dict[str, str] | None, str]:
    # Destruction wins: a sanitized device may still be destroyed later, never the reverse.
    for kind, outcome in (("destruction", "destroyed"), ("sanitization", "sanitized")):
        if kind in certs:
            return outcome, _method(json.loads(certs[kind].document)[kind]), certs[kind].cert_id
    if device.state and State(device.state) in DESTROYABLE:
        return "failed-pending", None, ""
    return "in-progress", None, ""


def _method(block: dict[str, Any]) -> dict[str, str]:
    """`{"method", "technique"}` from a schema-2 certificate's block, or a schema-1 one."""
    if "ieee_2883" in block:
        return {"method": block["method"], "technique": block["ieee_2883"]["technique"]}
    return {"method": block["method_type"], "technique": block["technique"]}


def _cell(value: Any) -> str:
    if isinstance(value, dict):  # the method: "Clear: Overwrite"
        return f"{value['method']}: {value['technique']}"
    return "" if value is None else str(value)
