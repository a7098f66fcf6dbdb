"""The return report ("återrapport"): per customer asset, what happened to it and its data.

The customer sent a list of assets; the report answers it row by row: each asset's tag, serial
and type with the customer's own columns echoed back, every drive taken from it with method,
outcome and certificate id, where the asset went (refurbishment, recycling, destruction), and
its chain of custody with times and the log event of each step. Totals and the reconciliation
(expected, received, missing, unexpected, drives still in the pipeline) come first.

It is signed and sealed like the batch report: issuing appends a `batch.return_reported`
event, the report carries that event's seq and hash, and the same `store_signed` writes the
JSON, the PDF and the row. Everything in it passes the privacy check (withholding, not
refusing: a value that slipped past the import's screening is replaced, never printed).
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import TYPE_CHECKING, Any

from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit import iso_utc
from asset_pipeline.evidence.batch_report import IssuedReport
from asset_pipeline.evidence.content import customer_binding
from asset_pipeline.evidence.heads import seal
from asset_pipeline.evidence.issuing import issuer, store_signed
from asset_pipeline.evidence.privacy import check_payload
from asset_pipeline.evidence.signing import RETURN_REPORT, SCHEMAS
from asset_pipeline.intake.reconcile import AssetStatus, DriveStatus, Reconciliation, reconcile
from asset_pipeline.storage import Asset, assets, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Batch, Manifest

KIND = "return_report"
CSV_COLUMNS = (
    "asset_tag",
    "serial",
    "type",
    "make",
    "model",
    "customer_ref",
    "on_list",
    "status",
    "condition",
    "received_at",
    "destination",
    "released_at",
    "drives",
)


def return_report_document(session: Session, station: Station, batch: Batch) -> dict[str, Any]:
    """The unsigned report body (without its id, time and seal), privacy-checked."""
    rec = reconcile(session, batch)
    manifest = assets.latest_manifest(session, batch)
    columns = list((manifest.columns if manifest else {}).get("kept", []))
    drives = {d.device_id: d for d in rec.drives}
    rows_by_id = {asset.id: asset for asset in assets.batch_assets(session, batch)}
    rows = [
        _asset_entry(session, rows_by_id[status.asset_id], status, columns, drives)
        for status in rec.assets
    ]
    body = {
        "issuer": issuer(station),
        "customer": customer_binding(batch),
        "batch": {
            "id": batch.id,
            "order_number": batch.order_number,
            "opened_at": iso_utc(batch.opened_at),
            "closed_at": iso_utc(batch.closed_at) if batch.closed_at else None,
            "close_reason": batch.close_reason,
        },
        "asset_list": _manifest(manifest),
        "totals": rec.counts,
        "reconciliation": _reconciliation(rec),
        "customer_columns": columns,
        "assets": rows,
        "drives_without_asset": [_drive(d) for d in rec.drives if d.asset_id is None],
    }
    return check_payload(body, where="return report", on_match="withhold")


def issue_return_report(session: Session, station: Station, batch: Batch) -> IssuedReport:
    """Sign, store and write the batch's return report (`<data-dir>/reports/RET-….json/.pdf`)."""
    body = return_report_document(session, station, batch)
    report_id = f"RET-{utcnow():%Y%m%d}-{secrets.token_hex(5)}"
    event = audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="batch.return_reported",
        payload={"report_id": report_id, **body["totals"]},
        batch_id=batch.id,
    )
    unsigned = {
        "schema": RETURN_REPORT,
        "schema_version": SCHEMAS[RETURN_REPORT],
        "id": report_id,
        "kind": KIND,
        "issued_at": iso_utc(utcnow()),
        **seal(session, station, event),
        **body,
    }
    signed, json_path, pdf_path = store_signed(
        session, station, station.reports_dir, unsigned, kind=KIND, batch_id=batch.id
    )
    session.flush()
    return IssuedReport(report_id, json_path, pdf_path, signed)


def report_csv(document: dict[str, Any]) -> str:
    """One row per asset (the customer's columns last, under their own headers), then totals."""
    columns = list(document["customer_columns"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "drive_outcomes", *columns])
    for asset in document["assets"]:
        fields = dict(asset["customer_fields"])
        outcomes = "; ".join(
            f"device {d['device_id']}: {d['outcome']}"
            + (f" ({d['method']['method']}: {d['method']['technique']})" if d["method"] else "")
            + (f" {d['certificate_id']}" if d["certificate_id"] else "")
            for d in asset["drives"]
        )
        row = {**asset, "drives": len(asset["drives"])}
        writer.writerow(
            [_cell(row[c]) for c in CSV_COLUMNS] + [outcomes] + [fields.get(c, "") for c in columns]
        )
    writer.writerow([])
    writer.writerow(list(document["totals"]))
    writer.writerow(list(document["totals"].values()))
    return out.getvalue()


def _asset_entry(
    session: Session,
    asset: Asset,
    status: AssetStatus,
    columns: list[str],
    drives: dict[int, DriveStatus],
) -> dict[str, Any]:
    own = dict(asset.customer_fields or {})
    # The list's columns in its order; a column only an earlier import had comes after.
    ordered = [[c, own[c]] for c in columns if c in own]
    ordered += [[c, v] for c, v in own.items() if c not in columns]
    linked = [drives[device_id] for device_id in status.drives]
    identity = {k: v for k, v in (asset.identity or {}).items() if k != "withheld" and v}
    return {
        "asset_tag": asset.asset_tag,
        "serial": asset.serial,
        "type": asset.kind,
        "make": asset.make,
        "model": asset.model,
        "customer_ref": asset.customer_ref,
        "customer_fields": ordered,
        "on_list": asset.expected,
        "status": status.status,
        "condition": asset.condition,
        "received_at": _iso(asset.received_at),
        "destination": asset.destination,
        "released_at": _iso(asset.released_at),
        "machine_identity": identity,
        "drives": [_drive(d) for d in linked],
        "custody": [
            {
                "step": step.step,
                "at": iso_utc(step.occurred_at),
                "operator": step.operator,
                "log_seq": step.audit_seq,
                "device_id": step.device_id,
                "detail": step.detail,
            }
            for step in assets.custody_of(session, asset)
        ],
    }


def _drive(drive: DriveStatus) -> dict[str, Any]:
    return {
        "device_id": drive.device_id,
        "model": drive.model,
        "serial": drive.serial,
        "capacity_bytes": drive.capacity_bytes,
        "state": drive.state,
        "outcome": drive.outcome,
        "method": drive.method,
        "certificate_id": drive.certificate_id,
    }


def _manifest(manifest: Manifest | None) -> dict[str, Any] | None:
    if manifest is None:
        return None
    return {
        "file_name": manifest.file_name,
        "sha256": manifest.sha256,
        "file_format": manifest.file_format,
        "imported_at": iso_utc(manifest.imported_at),
        "rows": manifest.rows,
        "dropped_columns": list(manifest.columns.get("dropped", [])),
    }


def _reconciliation(rec: Reconciliation) -> dict[str, Any]:
    def names(rows: list[Any]) -> list[str]:
        return [a.asset_tag or a.serial for a in rows]

    return {
        "missing": names(rec.missing),
        "unexpected": names(rec.unexpected),
        "in_pipeline": [d.device_id for d in rec.in_pipeline],
    }


def _iso(moment: Any) -> str | None:
    return iso_utc(moment) if moment is not None else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
