"""`asset-pipeline intake import|receive|list|release`: the customer's assets, in and out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from asset_pipeline.cli.operator import OPERATOR
from asset_pipeline.cli.output import emit, json_option, jsonable
from asset_pipeline.errors import IntakeError
from asset_pipeline.intake.custody import DESTINATIONS
from asset_pipeline.intake.dmi import read_identity
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import CONDITIONS, Receipt, receive, receive_machine
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches

BATCH = click.argument("batch_id", metavar="BATCH", type=click.IntRange(min=1))


@click.group()
def intake() -> None:
    """Customer assets: import the asset list, receive, release."""


@intake.command("import")
@BATCH
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@OPERATOR
@json_option
@click.pass_obj
def import_(station: Station, batch_id: int, file: Path, as_json: bool) -> None:
    """Import the customer's asset list (CSV, XLSX or ODS) into a batch.

    Columns are mapped by their Swedish or English headers (inventarienummer / asset tag,
    serienummer / serial, typ / type, märke / make, modell / model, kundreferens / reference);
    other columns are kept as the customer's own and echoed back in the return report. A
    column holding personal data (names, e-mail, personnummer, phone numbers) is not stored:
    the output says which columns were dropped and why. Importing a corrected list again
    updates the assets without duplicating them.

    \b
    Example:
        asset-pipeline intake import 3 tillgangar.xlsx
        asset-pipeline intake import 3 assets.csv --json
    """
    data = file.read_bytes()
    with station.session() as session:
        result = import_manifest(
            session, station, batches.find_batch(session, batch_id), file.name, data
        )
    for dropped in result.dropped:
        click.echo(f"dropped column {dropped['column']!r}: {dropped['reason']}", err=True)
    if result.skipped_rows:
        rows = ", ".join(map(str, result.skipped_rows[:20]))
        click.echo(f"skipped rows without asset tag or serial: {rows}", err=True)
    if as_json:
        emit(result, True)
        return
    summary = jsonable(result)
    summary["dropped"] = [f"{d['column']} ({d['reason']})" for d in result.dropped]
    summary["mapped"] = [f"{field}: {header}" for field, header in result.mapped.items()]
    emit(summary, False, title=f"Asset list imported into batch {batch_id}")


@intake.command("receive")
@BATCH
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="An asset tag or serial (repeatable); without --tag or --dmi, one per line on stdin.",
)
@click.option("--dmi", is_flag=True, help="Receive the machine this station runs on (SMBIOS).")
@click.option(
    "--condition",
    type=click.Choice(CONDITIONS),
    default="ok",
    show_default=True,
    help="The condition the assets arrived in.",
)
@OPERATOR
@json_option
@click.pass_obj
def receive_(
    station: Station, batch_id: int, tags: tuple[str, ...], dmi: bool, condition: str, as_json: bool
) -> None:
    """Receive assets: tags or serials from a barcode scanner (one per line) or --tag.

    Each code is matched against the batch's list by asset tag, then serial, and marked
    received with the time, the operator and the condition. A code on no list is recorded as
    an unexpected asset. Every receipt is a custody event in the processing log. With --json,
    one JSON line per scan. A refused scan (e.g. a code that looks like an e-mail address) is
    reported and the others go on; the exit code is then 1.

    \b
    Example:
        asset-pipeline intake receive 3            # scan, then Ctrl-D
        asset-pipeline intake receive 3 --tag INV-0042 --condition damaged
        asset-pipeline intake receive 3 --dmi --json
    """
    if dmi and tags:
        raise click.UsageError("--dmi cannot be used with --tag")
    identity = read_identity() if dmi else None
    if identity is None and not tags and sys.stdin.isatty():
        click.echo("Scan asset tags or serials, one per line; Ctrl-D ends.", err=True)
    codes: Iterable[str] = tags or ([] if dmi else _stdin_codes())
    receipts: list[Receipt] = []
    refused = 0
    if identity is not None:
        with station.session() as session:
            batch = batches.find_batch(session, batch_id)
            receipts.append(receive_machine(session, station, batch, identity, condition=condition))
        _show(receipts[-1], as_json)
    for code in codes:
        try:
            with station.session() as session:
                batch = batches.find_batch(session, batch_id)
                receipts.append(receive(session, station, batch, code, condition=condition))
        except IntakeError as e:  # one bad scan must not stop the rest of the shipment
            refused += 1
            click.echo(f"refused: {e}", err=True)
            continue
        _show(receipts[-1], as_json)
    if not as_json and receipts:
        emit(
            [jsonable(r) for r in receipts],
            False,
            columns=("code", "status", "asset_tag", "serial", "model", "condition"),
            title=f"Received into batch {batch_id}",
        )
    if refused:
        raise click.ClickException(f"{refused} of {refused + len(receipts)} scans were refused")


def _stdin_codes() -> Iterator[str]:
    for line in sys.stdin:
        code = line.strip()
        if code:
            yield code


def _show(receipt: Receipt, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(jsonable(receipt), ensure_ascii=False))
        sys.stdout.flush()
        return
    what = " ".join(p for p in (receipt.make, receipt.model) if p) or receipt.kind or "-"
    note = {"unexpected": " (not on the list; recorded as unexpected)"}.get(receipt.status, "")
    click.echo(f"{receipt.status}: {receipt.code} {what}{note}", err=True)


@intake.command("list")
@BATCH
@json_option
@click.pass_obj
def list_(station: Station, batch_id: int, as_json: bool) -> None:
    """List a batch's assets: on the list or not, received, processed, released.

    \b
    Example:
        asset-pipeline intake list 3 --json
    """
    from asset_pipeline.intake.reconcile import reconcile  # loads the batch report's outcomes

    with station.session() as session:
        found = reconcile(session, batches.find_batch(session, batch_id))
        rows = [jsonable(a) for a in found.assets]
    for row in rows:
        row["on_list"] = row.pop("expected")
    emit(
        rows,
        as_json,
        columns=("asset_tag", "serial", "kind", "model", "on_list", "status", "condition",
                 "drives", "destination"),
        title=f"Assets of batch {batch_id}",
    )  # fmt: skip


@intake.command("release")
@BATCH
@click.argument("code")
@click.option(
    "--to", "destination", type=click.Choice(DESTINATIONS), required=True, help="Where it goes."
)
@click.option("--no-storage", is_flag=True, help="The asset holds no drive (nothing to wipe).")
@OPERATOR
@json_option
@click.pass_obj
def release_(
    station: Station, batch_id: int, code: str, destination: str, no_storage: bool, as_json: bool
) -> None:
    """Release an asset to refurbishment, recycling or destruction (the last custody step).

    To refurbish or recycle, every drive linked to the asset must be certified or destroyed.

    \b
    Example:
        asset-pipeline intake release 3 INV-0042 --to refurbish
    """
    from asset_pipeline.intake.release import release  # loads the batch report's outcomes

    with station.session() as session:
        asset = release(session, station, batches.find_batch(session, batch_id), code,
                        destination, no_storage=no_storage)  # fmt: skip
        row = {"asset_tag": asset.asset_tag, "serial": asset.serial,
               "destination": asset.destination, "released_at": asset.released_at}  # fmt: skip
    emit(row, as_json)


COMMANDS = [intake]
