"""`asset-pipeline demo`: the station's main job on a synthetic customer drive."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option, stderr_console
from asset_pipeline.demo import run_demo
from asset_pipeline.station import Station


@click.command()
@click.option(
    "--loop/--no-loop",
    default=None,
    help="Attach the drive image as a loop device (default: when run as root).",
)
@json_option
@click.pass_obj
def demo(station: Station, loop: bool | None, as_json: bool) -> None:
    """Build a synthetic customer drive and take it through the station.

    The drive holds generated Swedish personal data (CSV, letters, UTF-16 text, a nested zip and
    a deleted file). A demo customer, agreement and batch are created in the station database.

    \b
    Example:
        asset-pipeline demo
        asset-pipeline --data-dir /tmp/demo-station demo --json
    """
    err = stderr_console()

    def note(line: str) -> None:
        err.print(f"demo: {line}", markup=False)

    outcome = run_demo(station, use_loop=loop, note=note)
    if as_json:
        emit(outcome, True)
        return
    emit(
        {
            "image": outcome.image,
            "target": outcome.target,
            "batch": outcome.batch_id,
            "device": outcome.device_id,
            "transport": outcome.device["transport"],
            "size_bytes": outcome.device["size_bytes"],
            "planted (live files)": outcome.planted,
            "planted (deleted file)": outcome.planted_deleted,
        },
        False,
        title="Demo",
    )


COMMANDS = [demo]
