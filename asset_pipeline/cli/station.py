"""`asset-pipeline station list|retire`: the fleet's registry of station keys."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.evidence import audit
from asset_pipeline.station.context import Station
from asset_pipeline.storage import RegisteredKey, stations


def key_row(row: RegisteredKey) -> dict[str, object]:
    """The fields shown for a registered key (table and JSON)."""
    return {
        "station_id": row.station_id,
        "fingerprint": row.fingerprint,
        "status": row.status,
        "organization": row.organization,
        "site": row.site,
        "registered_at": row.registered_at,
        "retired_at": row.retired_at,
        "retired_reason": row.retired_reason,
        "retired_by": row.retired_by,
        "public_key_pem": row.public_key_pem,
    }


@click.group()
def station() -> None:
    """Stations sharing this database: their registered keys (added on first connection)."""


@station.command("list")
@json_option
@click.pass_obj
def list_(station: Station, as_json: bool) -> None:
    """List every station key registered in the database, active and retired.

    \b
    Example:
        asset-pipeline --db-url postgresql+psycopg://ap@db/fleet station list
    """
    with station.session() as session:
        rows = [key_row(r) for r in stations.list_keys(session)]
    emit(
        rows,
        as_json,
        columns=("station_id", "fingerprint", "status", "site", "registered_at", "retired_reason"),
        title="Station keys",
    )


@station.command("retire")
@click.argument("key")
@click.option("--reason", required=True, help="Why (stolen, decommissioned, key replaced ...).")
@json_option
@click.pass_obj
def retire(station: Station, key: str, reason: str, as_json: bool) -> None:
    """Retire a station's key (by station id or fingerprint): it may sign nothing more.

    Certificates and reports it signed before stay verifiable; the verification page shows
    the key as retired with the date and reason, and refuses documents dated after it.

    \b
    Example:
        asset-pipeline station retire bench-3-5f2a91c0 --reason "laptop stolen 2026-11-30"
    """
    with station.session() as session:
        row = stations.retire(session, key, reason, by=station.operator)
        audit.append_event(
            session,
            station_id=station.config.station_id,
            operator=station.operator,
            event_type="station.retired",
            payload={
                "station_id": row.station_id,
                "fingerprint": row.fingerprint,
                "reason": row.retired_reason,
            },
        )
        result = key_row(row)
    if not as_json:
        result.pop("public_key_pem")
    emit(result, as_json)


COMMANDS = [station]
