"""`asset-pipeline init`: create the station's data directory, config and database."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station.config import load_config, new_config
from asset_pipeline.station.context import Station


@click.command()
@click.option("--organization", default="", help="Organization that runs the station.")
@click.option("--operator", "default_operator", default="", help="Default operator name.")
@click.option("--station-id", default="", help="Station id (default: host name + random suffix).")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
@json_option
@click.pass_obj
def init(
    station: Station,
    organization: str,
    default_operator: str,
    station_id: str,
    force: bool,
    as_json: bool,
) -> None:
    """Create the station's data directory, config file, signing key and database.

    Running it again keeps the existing config and key (and creates a key for a station that
    has none yet); `--force` rewrites the config but never replaces the key.

    \b
    Example:
        asset-pipeline --data-dir /var/lib/asset-pipeline init --organization "Refurb AB"
    """
    from asset_pipeline.station.config import ensure_data_dir

    ensure_data_dir(station.data_dir)
    existing = load_config(station.data_dir)
    if existing is not None and not force:
        config = existing
        station.sessions()
        status = "exists"
    else:
        config = new_config(organization, default_operator)
        if station_id:
            config = type(config)(
                station_id=station_id,
                organization=config.organization,
                operator=config.operator,
                site=config.site,
            )
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
            "organization": config.organization,
            "operator": config.operator,
            "key": str(key.path),
            "key_fingerprint": key.fingerprint,
        },
        as_json,
    )


COMMANDS = [init]
