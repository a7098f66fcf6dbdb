"""`asset-pipeline batch open|close|list|show`."""

from __future__ import annotations

import click

from asset_pipeline import inventory, records
from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station import Station
from asset_pipeline.storage import Batch, Device


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
        agreement = records.find_agreement(session, agreement_key)
        row = batch_row(records.open_batch(session, agreement, order_number, note))
    emit(row, as_json)


@batch.command("close")
@click.argument("batch_id", type=click.IntRange(min=1))
@json_option
@click.pass_obj
def close(station: Station, batch_id: int, as_json: bool) -> None:
    """Close a batch; it takes no more devices.

    \b
    Example:
        asset-pipeline batch close 3
    """
    with station.session() as session:
        row = batch_row(records.close_batch(session, records.find_batch(session, batch_id)))
    emit(row, as_json)


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
        rows = [batch_row(b) for b in records.list_batches(session, open_only=open_only)]
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
        found = records.find_batch(session, batch_id)
        row = batch_row(found)
        row["devices"] = [device_row(d) for d in inventory.batch_devices(session, found)]
    if as_json:
        emit(row, as_json)
        return
    devices = row.pop("devices")
    emit(row, False, title=f"Batch {batch_id}")
    emit(devices, False, columns=("id", "path", "transport", "model", "serial", "state"))  # type: ignore[arg-type]


COMMANDS = [batch]
