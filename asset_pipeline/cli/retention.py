"""`asset-pipeline retention purge --dry-run`: what is past its agreement's retention."""

from __future__ import annotations

from datetime import datetime

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.errors import PipelineError
from asset_pipeline.evidence import retention as policy
from asset_pipeline.station.context import Station
from asset_pipeline.storage import utcnow


@click.group()
def retention() -> None:
    """Retention of certificates and logs, per the customers' agreements."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what is past retention (required).")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge retention on this day instead of today (YYYY-MM-DD).",
)
@json_option
@click.pass_obj
def purge(station: Station, dry_run: bool, as_of: datetime | None, as_json: bool) -> None:
    """List certificates, reports and log events whose retention period has ended.

    A batch's evidence is kept for its agreement's retention years from the day the batch
    was closed. Deleting is not done yet: removing log events would break the hash chain.

    \b
    Example:
        asset-pipeline retention purge --dry-run --as-of 2034-01-01
    """
    if not dry_run:
        raise PipelineError(
            "retention purge only lists for now: add --dry-run (deleting log events would "
            "break the hash chain)"
        )
    day = as_of.date() if as_of else utcnow().date()
    with station.session() as session:
        items = policy.past_retention(session, station, as_of=day)
    emit(
        [
            {
                "batch_id": i.batch_id,
                "agreement": i.agreement,
                "kept_until": i.kept_until.isoformat(),
                "kind": i.kind,
                "identifier": i.identifier,
                "files": list(i.files),
            }
            for i in items
        ],
        as_json,
        columns=("batch_id", "agreement", "kept_until", "kind", "identifier", "files"),
        title=f"Past retention on {day.isoformat()} (dry run: nothing deleted)",
    )


COMMANDS = [retention]
