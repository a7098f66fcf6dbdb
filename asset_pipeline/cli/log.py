"""`asset-pipeline log verify|export`: the hash-chained processing log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.errors import StorageError, VerificationFailed
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit_check import certificate_anchors, verify_chain
from asset_pipeline.evidence.canonical import canonical_bytes
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches


@click.group()
def log() -> None:
    """The processing log: every pipeline event, hash-chained."""


NO_DATABASE = (
    "no station database here: run on the station, or name a copy of its database with --db-url"
)


@log.command("verify")
@json_option
@click.pass_obj
def verify(station: Station, as_json: bool) -> None:
    """Walk the whole chain and report the first broken link (exit 1 when broken).

    Certificates seal the events that closed their devices; those seals are checked too,
    so a log cut short after a certificate is found.

    \b
    Example:
        asset-pipeline log verify --json
    """
    with station.reader_session() as session:
        if session is None:
            raise StorageError(NO_DATABASE)
        report = verify_chain(session, anchors=certificate_anchors(session))
    broken = report.broken
    emit(
        {
            "status": "ok" if broken is None else "broken",
            "events": report.events,
            "last_seq": report.last_seq,
            "head_hash": report.head_hash,
            "certificate_seals_checked": report.anchors_checked,
            "broken_seq": broken.seq if broken else None,
            "broken_kind": broken.kind if broken else None,
            "detail": broken.detail if broken else None,
        },
        as_json,
    )
    if broken is not None:
        raise VerificationFailed(
            f"log broken at event {broken.seq} ({broken.kind}): {broken.detail}"
        )


@log.command("export")
@click.option("--batch", "batch_id", type=click.IntRange(min=1), required=True, help="Batch id.")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@click.pass_obj
def export(station: Station, batch_id: int, fmt: str, output: Path | None) -> None:
    """Write a batch's log events (its own and its devices'), in chain order.

    \b
    Example:
        asset-pipeline log export --batch 3 --format csv -o batch3-log.csv
    """
    with station.reader_session() as session:
        if session is None:
            raise StorageError(NO_DATABASE)
        batch = batches.find_batch(session, batch_id)
        rows = [audit.event_record(e) for e in audit.batch_events(session, batch.id)]
    text = _csv(rows) if fmt == "csv" else "".join(_jsonl(row) for row in rows)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _jsonl(row: dict) -> str:
    return canonical_bytes(row).decode() + "\n"


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(audit.EXPORT_COLUMNS)
    for row in rows:
        payload = json.dumps(row["payload"], ensure_ascii=False, sort_keys=True)
        writer.writerow(
            [
                "" if row[c] is None else (payload if c == "payload" else row[c])
                for c in audit.EXPORT_COLUMNS
            ]
        )
    return out.getvalue()


COMMANDS = [log]
