"""`asset-pipeline key export`: the station's public key for customers and auditors."""

from __future__ import annotations

from pathlib import Path

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station.context import Station
from asset_pipeline.station.keys import public_pem


@click.group()
def key() -> None:
    """The station's Ed25519 signing key (created by `init`)."""


@key.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the PEM to this file (give it to customers with the fingerprint).",
)
@json_option
@click.pass_obj
def export(station: Station, output: Path | None, as_json: bool) -> None:
    """Print the public key (PEM) and its fingerprint.

    The fingerprint is the SHA-256 of the 32 raw public-key bytes in hex, grouped by four;
    read it to the customer over another channel so they know the PEM is yours.

    \b
    Example:
        asset-pipeline key export -o station_key.pub.pem
    """
    station_key = station.key
    pem = public_pem(station_key.public_key)
    if output is not None:
        output.write_text(pem, encoding="ascii")
    if as_json:
        emit(
            {
                "station_id": station.config.station_id,
                "algorithm": "Ed25519",
                "fingerprint": station_key.fingerprint,
                "public_key_pem": pem,
            },
            True,
        )
        return
    # Text before the BEGIN line is allowed by RFC 7468, so this output is itself a PEM file.
    click.echo(f"Station: {station.config.station_id}")
    click.echo(f"Fingerprint (SHA-256 of the Ed25519 key): {station_key.fingerprint}")
    click.echo(pem, nl=False)


COMMANDS = [key]
