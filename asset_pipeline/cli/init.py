"""`asset-pipeline init`: create the station, or update who it certifies for."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station.config import (
    checked_verify_url,
    ensure_data_dir,
    load_config,
    new_config,
)
from asset_pipeline.station.context import Station
from asset_pipeline.station.identity import update_identity


@click.command()
@click.option("--organization", default="", help="Organisation that runs the station.")
@click.option("--org-number", default="", help="The organisation's organisationsnummer.")
@click.option("--site", default="", help="Where the station stands (workshop, town).")
@click.option("--station-name", default="", help="The station's name (default: host name).")
@click.option("--operator", "default_operator", default="", help="Default operator name.")
@click.option("--station-id", default="", help="Station id of a new station (default: generated).")
@click.option(
    "--verify-url",
    default="",
    callback=lambda _ctx, _param, value: _checked_url(value),
    help="Address of the verification page (`serve`); certificates' QR codes link to it.",
)
@click.option(
    "--force", is_flag=True, help="Rewrite the config with a new station id (not the key)."
)
@json_option
@click.pass_obj
def init(
    station: Station,
    organization: str,
    org_number: str,
    site: str,
    station_name: str,
    default_operator: str,
    station_id: str,
    verify_url: str,
    force: bool,
    as_json: bool,
) -> None:
    """Create the station's data directory, config, signing key and database, or update them.

    On an existing station the identity options update the config in place: the station
    id and key stay, and the change is logged (`station.identity_changed`). Certificates are
    only issued once the organisation is no longer the placeholder "Refurbisher AB".

    \b
    Example:
        asset-pipeline init --organization "Refurb AB" --org-number 556677-8899 \\
            --site "Sundsvall" --station-name bank-3 --operator "Anna Berg"
    """
    ensure_data_dir(station.data_dir)
    existing = load_config(station.data_dir)
    identity = {
        "organization": organization,
        "org_number": org_number,
        "site": site,
        "station_name": station_name,
        "operator": default_operator,
        "verify_url": verify_url,
    }
    changed: dict[str, dict[str, str]] = {}
    if existing is not None and not force:
        if station_id and station_id != existing.station_id:
            raise click.UsageError("--station-id cannot change an existing station's id")
        config, changed = update_identity(station, existing, identity)
        status = "updated" if changed else "exists"
    else:
        config = new_config(**identity, station_id=station_id)
        station.initialize(config)
        status = "created"
    key = station.key
    emit(
        {
            "status": status,
            "data_dir": str(station.data_dir),
            "config": str(station.data_dir / "config.toml"),
            "database": station.database_url,
            "station_id": config.station_id,
            "station_name": config.station_name,
            "organization": config.organization,
            "org_number": config.org_number,
            "site": config.site,
            "operator": config.operator,
            "changed": sorted(changed),
            "key": str(key.path),
            "key_fingerprint": key.fingerprint,
            "verify_url": config.verify_url,
        },
        as_json,
    )


def _checked_url(url: str) -> str:
    try:
        return checked_verify_url(url)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--verify-url") from e


COMMANDS = [init]
