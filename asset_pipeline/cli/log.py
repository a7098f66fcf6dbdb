"""`asset-pipeline log verify|checkpoint|export`: the processing log and its signed heads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.errors import EvidenceError, InvalidDocument, StorageError, VerificationFailed
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit_check import (
    Anchor,
    certificate_anchors,
    verify_chain,
    verify_trees,
)
from asset_pipeline.evidence.canonical import canonical_bytes
from asset_pipeline.evidence.heads import SignedHead, head_bytes, read_anchor, sign_head
from asset_pipeline.station.atomic import write_atomic
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches


@click.group()
def log() -> None:
    """The processing log: every pipeline event, hash-chained, in signed Merkle trees."""


NO_DATABASE = (
    "no station database here: run on the station, or name a copy of its database with --db-url"
)


@log.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A head you hold: checkpoint file, certificate or report (JSON or PDF). Repeatable.",
)
@json_option
@click.pass_obj
def verify(station: Station, anchors: tuple[Path, ...], as_json: bool) -> None:
    """Check the whole log: hash chain, each station's Merkle tree, every signed head.

    The log must be an append-only extension of every anchor and of every head stored with
    it or carried by a stored certificate (an RFC 9162 consistency proof), and each head must
    be signed by a registered key of its station. Exit 1, with one line, at the first problem.

    \b
    Example:
        asset-pipeline log verify --anchor checkpoint-2026-11-27.json --anchor SAN-....pdf
    """
    held, seals = _read_anchors(anchors)
    with station.reader_session() as session:
        if session is None:
            raise StorageError(NO_DATABASE)
        report = verify_chain(session, anchors=[*certificate_anchors(session), *seals])
        trees = verify_trees(session, anchors=held)
    broken = report.broken
    emit(
        {
            "status": "ok" if broken is None and trees.ok else "broken",
            "events": report.events,
            "last_seq": report.last_seq,
            "head_hash": report.head_hash,
            "certificate_seals_checked": report.anchors_checked,
            "trees": {
                s: {"size": size, "root_hash": trees.roots[s]} for s, size in trees.sizes.items()
            },
            "heads_checked": trees.heads_checked,
            "anchors": len(anchors),
            "broken_seq": broken.seq if broken else None,
            "broken_kind": broken.kind if broken else None,
            "detail": broken.detail if broken else trees.problem,
        },
        as_json,
    )
    if broken is not None:
        raise VerificationFailed(
            f"log broken at event {broken.seq} ({broken.kind}): {broken.detail}"
        )
    if trees.problem is not None:
        raise VerificationFailed(f"log broken: {trees.problem}")


def _read_anchors(paths: tuple[Path, ...]) -> tuple[list[SignedHead], list[Anchor]]:
    """Heads from anchor files; a certificate from before heads gives its chain seal."""
    held, seals = [], []
    for path in paths:
        head, document = read_anchor(path)
        if head is not None:
            held.append(head)
            continue
        seal = document.get("closing_event") or {}
        if not (isinstance(seal.get("seq"), int) and isinstance(seal.get("hash"), str)):
            raise InvalidDocument(f"anchor {path.name} carries neither a tree head nor a seal")
        seals.append(Anchor(seal["seq"], seal["hash"], f"anchor {path.name}"))
    return held, seals


@log.command("checkpoint")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the signed head to this file instead of stdout.",
)
@click.pass_obj
def checkpoint(station: Station, output: Path | None) -> None:
    """Sign this station's current tree head and write it (keep it: it anchors the log).

    \b
    Example:
        asset-pipeline log checkpoint -o checkpoint-$(date +%F).json
    """
    with station.session() as session:
        head = sign_head(session, station)
    data = head_bytes(head) + b"\n"
    if output is None:
        click.echo(data.decode("ascii"), nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as e:
        raise EvidenceError(f"cannot write {output}: {e.strerror}") from e
    done = f"signed head of station {head.station_id} at size {head.size} -> {output}"
    click.echo(done, err=True)


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
