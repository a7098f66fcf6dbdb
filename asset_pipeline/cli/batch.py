"""`asset-pipeline batch open|close|list|show|report|reconcile|return-report`."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from asset_pipeline.cli.output import emit, json_option, stderr_console
from asset_pipeline.evidence.heads import sign_head, write_checkpoint
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Batch, Device, access, batches, devices


def batch_row(batch: Batch) -> dict[str, object]:
    """The fields shown for a batch (table and JSON)."""
    agreement = batch.agreement
    return {
        "id": batch.id,
        "customer": agreement.customer.name,
        "agreement": agreement.reference,
        "required_level": agreement.required_level,
        "discovery_instructed": agreement.discovery_instructed,
        "order_number": batch.order_number,
        "note": batch.note,
        "status": "open" if batch.is_open else "closed",
        "opened_at": batch.opened_at,
        "closed_at": batch.closed_at,
        "devices": len(batch.devices),
    }


def device_row(device: Device) -> dict[str, object]:
    """The fields shown for a device in a batch."""
    return {
        "id": device.id,
        "path": device.path,
        "transport": device.transport,
        "model": device.model,
        "serial": device.serial,
        "size_bytes": device.size_bytes,
        "state": device.state,
        "state_reason": device.state_reason,
    }


@click.group()
def batch() -> None:
    """Batches: one customer order of devices under one agreement."""


@batch.command("open")
@click.option("--agreement", "agreement_key", required=True, help="Agreement reference or id.")
@click.option("--order", "order_number", default="", help="Customer order number.")
@click.option("--note", default="", help="Free-text note (no personal data).")
@json_option
@click.pass_obj
def open_(
    station: Station, agreement_key: str, order_number: str, note: str, as_json: bool
) -> None:
    """Open a batch for a customer order.

    \b
    Example:
        asset-pipeline batch open --agreement DPA-2026-01 --order PO-4711
    """
    with station.session() as session:
        agreement = batches.find_agreement(session, agreement_key)
        row = batch_row(batches.open_batch(session, agreement, order_number, note))
    emit(row, as_json)


@batch.command("close")
@click.argument("batch_id", type=click.IntRange(min=1))
@click.option(
    "--force",
    is_flag=True,
    help="Close although a device is mid-pipeline or a listed asset is missing (needs --reason).",
)
@click.option("--reason", default="", help="Why (goes into the log and the return report).")
@json_option
@click.pass_obj
def close(station: Station, batch_id: int, force: bool, reason: str, as_json: bool) -> None:
    """Close a batch; it takes no more devices.

    Refused while a device is mid-pipeline or an asset on the customer's list was never
    received (see `batch reconcile`), unless forced with a reason. A device of a closed batch
    that is resumed ends failed with that reason.

    Prints the batch's access token once: the customer enters it on the verification page
    (`serve`) to download the batch's reports. Only its hash is stored. Writes a signed head
    of the station's log (`<data-dir>/checkpoints/batch-<id>-closed-<size>.json`): keep a copy
    away from the station, it anchors `log verify --anchor`.

    \b
    Example:
        asset-pipeline batch close 3
        asset-pipeline batch close 3 --force --reason "INV-0007 lost in transit, customer informed"
    """
    from asset_pipeline.intake.reconcile import close as close_batch

    if force and not reason.strip():
        raise click.UsageError("--force needs --reason TEXT")
    with station.session() as session:
        found = batches.find_batch(session, batch_id)
        close_batch(session, station, found, force=force, reason=reason)
        row = batch_row(found)
        row["close_reason"] = found.close_reason
        row["access_token"] = access.issue_token(session, found)
        head = sign_head(session, station)  # covers the close: a checkpoint to keep
    row["checkpoint"] = write_checkpoint(station, head, name=f"batch-{found.id}-closed")
    emit(row, as_json)
    if not as_json:
        stderr_console().print("Give the access token to the customer: it is shown only once.")


@batch.command("reconcile")
@click.argument("batch_id", type=click.IntRange(min=1))
@json_option
@click.pass_obj
def reconcile_(station: Station, batch_id: int, as_json: bool) -> None:
    """Reconcile a batch: expected, received, processed, in the pipeline, missing, unexpected.

    Processed drives are certified, destroyed or failed (as in the batch report). The counts
    come first; `--json` also lists every asset and drive.

    \b
    Example:
        asset-pipeline batch reconcile 3 --json
    """
    from asset_pipeline.intake.reconcile import reconcile

    with station.session() as session:
        result = reconcile(session, batches.find_batch(session, batch_id)).to_dict()
    if as_json:
        emit(result, True)
        return
    emit(result["counts"], False, title=f"Batch {batch_id} ({result['status']})")
    for name in ("missing", "unexpected"):
        if result[name]:
            emit(result[name], False, columns=("asset_tag", "serial", "kind", "model", "status"),
                 title=name.capitalize())  # fmt: skip
    for name, drives in (("in pipeline", result["in_pipeline"]),
                         *result["processed"].items()):  # fmt: skip
        if drives:
            emit(drives, False, columns=("device_id", "asset_tag", "model", "serial", "state",
                                         "certificate_id"), title=name.capitalize())  # fmt: skip


@batch.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only batches that are still open.")
@json_option
@click.pass_obj
def list_(station: Station, open_only: bool, as_json: bool) -> None:
    """List batches.

    \b
    Example:
        asset-pipeline batch list --open
    """
    with station.session() as session:
        rows = [batch_row(b) for b in batches.list_batches(session, open_only=open_only)]
    emit(
        rows,
        as_json,
        columns=("id", "customer", "agreement", "order_number", "status", "devices", "opened_at"),
        title="Batches",
    )


@batch.command("show")
@click.argument("batch_id", type=click.IntRange(min=1))
@json_option
@click.pass_obj
def show(station: Station, batch_id: int, as_json: bool) -> None:
    """Show one batch and its devices.

    \b
    Example:
        asset-pipeline batch show 3 --json
    """
    with station.session() as session:
        found = batches.find_batch(session, batch_id)
        row = batch_row(found)
        row["devices"] = [device_row(d) for d in devices.batch_devices(session, found)]
    if as_json:
        emit(row, as_json)
        return
    device_rows = row.pop("devices")
    emit(row, False, title=f"Batch {batch_id}")
    emit(device_rows, False, columns=("id", "path", "transport", "model", "serial", "state"))  # type: ignore[arg-type]


@batch.command("report")
@click.argument("batch_id", type=click.IntRange(min=1))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "csv", "json"]),
    default="pdf",
    show_default=True,
    help="pdf and json are signed; csv is a plain table.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Copy the report here (json and csv go to stdout otherwise).",
)
@json_option
@click.pass_obj
def report(station: Station, batch_id: int, fmt: str, output: Path | None, as_json: bool) -> None:
    """Issue a signed batch report: customer, agreement, every device's outcome, totals.

    The signed JSON and its PDF are always written to `<data-dir>/reports/`. With `--format
    json` the signed JSON goes to stdout byte for byte (no newline), so it verifies as saved.

    \b
    Example:
        asset-pipeline batch report 3 --format pdf -o batch3.pdf
    """
    from asset_pipeline.evidence import batch_report  # PDF rendering loads only here

    with station.session() as session:
        issued = batch_report.issue_batch_report(
            session, station, batches.find_batch(session, batch_id)
        )
    if fmt == "json" and output is None:
        click.echo(issued.signed.data, nl=False)  # bytes go to the binary stream as they are
        return
    if fmt == "csv":
        text = batch_report.report_csv(issued.signed.document)
        if output is None:
            click.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
    elif output is not None:
        shutil.copyfile(issued.pdf_path if fmt == "pdf" else issued.json_path, output)
    emit(
        {
            "report_id": issued.report_id,
            "json": issued.json_path,
            "pdf": issued.pdf_path,
            "output": output,
            "sha256": issued.signed.sha256,
            "totals": issued.signed.document["totals"],
        },
        as_json,
    )


@batch.command("return-report")
@click.argument("batch_id", type=click.IntRange(min=1))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "csv", "json"]),
    default="pdf",
    show_default=True,
    help="pdf and json are signed; csv is a plain table (one row per asset).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Copy the report here (json and csv go to stdout otherwise).",
)
@json_option
@click.pass_obj
def return_report(
    station: Station, batch_id: int, fmt: str, output: Path | None, as_json: bool
) -> None:
    """Issue the signed return report: per asset, its drives, destination and custody.

    Per asset: tag, serial, type, the customer's own columns, every drive with method, outcome
    and certificate id, destination, and the custody steps with times; totals and the
    reconciliation first. In Swedish and English. Written to `<data-dir>/reports/` like the
    batch report; with `--format json` the signed JSON goes to stdout byte for byte.

    \b
    Example:
        asset-pipeline batch return-report 3 -o aterrapport-3.pdf
        asset-pipeline batch return-report 3 --format csv > aterrapport-3.csv
    """
    from asset_pipeline.evidence import return_report as reports  # PDF rendering loads here

    with station.session() as session:
        issued = reports.issue_return_report(
            session, station, batches.find_batch(session, batch_id)
        )
    if fmt == "json" and output is None:
        click.echo(issued.signed.data, nl=False)
        return
    if fmt == "csv":
        text = reports.report_csv(issued.signed.document)
        if output is None:
            click.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
    elif output is not None:
        shutil.copyfile(issued.pdf_path if fmt == "pdf" else issued.json_path, output)
    emit(
        {
            "report_id": issued.report_id,
            "json": issued.json_path,
            "pdf": issued.pdf_path,
            "output": output,
            "sha256": issued.signed.sha256,
            "totals": issued.signed.document["totals"],
        },
        as_json,
    )


COMMANDS = [batch]
