"""`asset-pipeline cert verify|destroy`: checking certificates and recording destruction."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import click

from asset_pipeline.cli.operator import OPERATOR
from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.errors import KeyFileError, VerificationFailed
from asset_pipeline.evidence.content import DESTRUCTION_METHODS
from asset_pipeline.evidence.verify import verify_file
from asset_pipeline.flow import destruction
from asset_pipeline.station.context import Station
from asset_pipeline.station.keys import load_public_key, load_station_key
from asset_pipeline.storage import devices


@click.group()
def cert() -> None:
    """Certificates of sanitization and destruction (signed JSON + PDF)."""


@cert.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The issuing station's public key PEM (default: this station's own key).",
)
@click.option(
    "--db-url",
    default=None,
    help="A station database (or a copy) to check the log and the stored copy against.",
)
@json_option
@click.pass_obj
def verify(
    station: Station, file: Path, public_key: Path | None, db_url: str | None, as_json: bool
) -> None:
    """Verify a certificate or batch report, as JSON or PDF (exit 0 only when all checks hold).

    Checks the signature; for a PDF, that one PDF signature by the same key covers the
    whole file, and that its page, QR code and printed hash show what the attached JSON
    says; the inclusion proof of its closing event under the signed tree head it carries;
    and, when a station database is at hand (this station's, or `--db-url`), that the log
    holds that event and extends the head, and that the database stores this very file.
    Hostile input (over 16 MiB, nested too deep, a broken PDF) is refused with one line.

    \b
    Example:
        asset-pipeline cert verify SAN-20261127-3f9a1c2b7d.pdf --public-key station_key.pub.pem
    """
    key = _public_key(station, public_key)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # A damaged or hostile PDF makes the parsers log each repair they try; the verdict
        # is the one line that counts (`-v` shows them).
        for name in ("pypdf", "pyhanko", "pdfminer"):
            logging.getLogger(name).setLevel(logging.ERROR)
    reader = station if db_url is None else Station(data_dir=station.data_dir, db_url=db_url)
    # Verifying never creates a station, a key or a database (see `Station.reader_session`).
    with reader.reader_session() as session:
        station_id = station.config.station_id if station.is_initialized else None
        report = verify_file(file, key, session=session, station_id=station_id)
    row = {
        "file": report.file,
        "format": report.format,
        "id": report.document_id,
        "kind": report.kind,
        "sha256": report.sha256,
        "key_fingerprint": report.key_fingerprint,
        "verified": report.ok,
        "checks": [
            {"check": c.name, "status": c.status, "detail": c.detail} for c in report.checks
        ],
    }
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        emit(row, True)
    else:
        checks = row.pop("checks")
        emit(row, False)
        emit(checks, False, columns=("check", "status", "detail"))
    if not report.ok:
        raise VerificationFailed(f"{report.document_id} does not verify: {report.failure}")


@cert.command("destroy")
@click.argument("device_id", type=click.IntRange(min=1))
@click.option(
    "--method", type=click.Choice(DESTRUCTION_METHODS), required=True, help="How it was destroyed."
)
@click.option(
    "--date",
    "destroyed_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Day of destruction (YYYY-MM-DD).",
)
@click.option("--witness", required=True, help="Who witnessed the destruction.")
@click.option("--facility", default="", help="Where (destruction facility or contractor).")
@click.option("--note", "notes", multiple=True, help="A short note (repeatable; no personal data).")
@OPERATOR
@json_option
@click.pass_obj
def destroy(
    station: Station,
    device_id: int,
    method: str,
    destroyed_on: datetime,
    witness: str,
    facility: str,
    notes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Record the physical destruction of a device and issue its certificate of destruction.

    Only for devices whose wipe failed or was aborted, or whose plan ends in destroy.

    \b
    Example:
        asset-pipeline cert destroy 12 --method shred --date 2026-11-27 --witness "Lena Berg"
    """
    with station.session() as session:
        device = devices.find_device(session, device_id)
        issued = destruction.record_destruction(
            session,
            station,
            device,
            method=method,
            destroyed_on=destroyed_on.date(),
            witness=witness,
            facility=facility,
            notes=notes,
        )
    emit(
        {
            "certificate_id": issued.cert_id,
            "kind": issued.kind,
            "device_id": device_id,
            "json": issued.json_path,
            "pdf": issued.pdf_path,
            "sha256": issued.sha256,
        },
        as_json,
    )


def _public_key(station: Station, path: Path | None):  # noqa: ANN202 - Ed25519PublicKey
    if path is not None:
        return load_public_key(path)
    if not station.is_initialized:
        raise KeyFileError(
            "no public key to verify with: pass --public-key FILE (see `asset-pipeline key export`)"
        )
    return load_station_key(station.data_dir).public_key


COMMANDS = [cert]
