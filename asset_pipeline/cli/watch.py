"""`asset-pipeline watch`: the station mode, a live table of bays."""

from __future__ import annotations

import json
import sys
import threading

import click
from rich.live import Live
from rich.table import Table

from asset_pipeline.cli.operator import OPERATOR, RESTORE_HIDDEN, VERIFY, interrupts
from asset_pipeline.cli.output import human_size, jsonable, stderr_console
from asset_pipeline.flow import pipeline
from asset_pipeline.flow.watcher import Bay, Watcher, WatchOptions
from asset_pipeline.station.context import Station
from asset_pipeline.station.identity import require_certifying
from asset_pipeline.storage import batches


@click.command()
@click.option("--batch", "batch_id", type=click.IntRange(min=1), required=True, help="Batch id.")
@click.option(
    "--bays",
    default="",
    help="Comma-separated glob patterns of drives to take (kernel name, path, serial or a loop "
    "device's backing file), e.g. 'sd[b-h],nvme*'. Default: `bays` under [station] in "
    "config.toml.",
)
@click.option(
    "--all-drives",
    is_flag=True,
    help="Take every eligible drive this station sees, whatever the bays (explicit opt-in).",
)
@click.option(
    "--max-devices",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many devices have finished (default: run until stopped).",
)
@click.option("--no-resume", is_flag=True, help="Leave devices a crash left mid-pipeline alone.")
@click.option(
    "--require-tag",
    is_flag=True,
    help="A drive waits in its bay until the tag of the asset it came from is scanned (tags "
    "one per line on stdin, from a barcode scanner); the bay table shows the pairing.",
)
@VERIFY
@RESTORE_HIDDEN
@OPERATOR
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per bay change.")
@click.pass_obj
def watch(
    station: Station,
    batch_id: int,
    bays: str,
    all_drives: bool,
    max_devices: int | None,
    no_resume: bool,
    require_tag: bool,
    verify_method: str,
    restore_hidden: bool,
    as_json: bool,
) -> None:
    """Station mode: process every drive plugged into a bay, several at once, until stopped.

    Only drives on the station's bays are taken (`--bays`, else `bays` under [station] in
    config.toml); with neither, watch refuses to start unless --all-drives says to take every
    eligible drive. Each drive gets its own worker the moment it appears (no drive waits for
    another). Drives that must not be written (system disk, mounted, held) are shown and
    skipped. A drive pulled mid-process ends aborted; plugged back, it starts over. Devices a
    crashed station left mid-pipeline are resumed first. Ctrl-C stops: running devices end
    aborted and can be processed again. With --require-tag the operator scans the asset's tag,
    then plugs its drive in: each drive is linked to the asset whose tag came first.

    \b
    Example:
        asset-pipeline watch --batch 4
        asset-pipeline watch --batch 4 --bays 'sd[b-e],nvme*' --json
        asset-pipeline watch --batch 4 --require-tag
    """
    patterns = tuple(p.strip() for p in bays.split(",") if p.strip())
    if patterns and all_drives:
        raise click.UsageError("--bays cannot be used with --all-drives")
    options = WatchOptions(
        batch_id=batch_id,
        bays=patterns or station.config.bays,
        all_drives=all_drives,
        pipeline=pipeline.Options(
            verify_method=verify_method, restore_hidden=restore_hidden, scan_processes=False
        ),
        max_devices=max_devices,
        resume=not no_resume,
        require_tag=require_tag,
    )
    console = stderr_console()
    live_enabled = not as_json and sys.stderr.isatty()

    def on_change(bay: Bay) -> None:
        if as_json:
            click.echo(json.dumps(jsonable(bay.to_dict()), ensure_ascii=False), nl=True)
            sys.stdout.flush()
        elif not live_enabled and bay.status in ("waiting", "skipped", "done", "removed"):
            console.print(_line(bay), markup=False)

    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        if not batch.is_open:
            raise click.ClickException(f"batch {batch_id} is closed")
        require_certifying(station, session)  # before any drive is touched
    watcher = Watcher(station, options, on_change=on_change)  # refuses when there are no bays
    if require_tag:
        threading.Thread(target=_read_tags, args=(station, batch_id, watcher), daemon=True).start()
    stop = threading.Event()
    if not as_json:
        console.print(f"watching for drives for batch {batch_id}; Ctrl-C stops", markup=False)
    with interrupts(stop):
        waiter = threading.Thread(target=lambda: (stop.wait(), watcher.stop()), daemon=True)
        waiter.start()
        if live_enabled:
            with Live(_table(watcher), console=console, refresh_per_second=4) as live:
                runner = threading.Thread(target=watcher.run)
                runner.start()
                while runner.is_alive():
                    runner.join(0.25)
                    live.update(_table(watcher))
        else:
            watcher.run()
        stop.set()


def _read_tags(station: Station, batch_id: int, watcher: Watcher) -> None:
    """Scanned tags from stdin: each one that names an asset of the batch goes to the watcher."""
    from asset_pipeline.storage import assets

    for line in sys.stdin:
        code = line.strip()
        if not code:
            continue
        with station.session() as session:
            found = assets.match_code(session, batches.find_batch(session, batch_id), code)
            tag = (found.asset_tag or found.serial) if found is not None else None
        if tag is None:
            click.echo(f"{code}: no asset of batch {batch_id} has this tag or serial (receive "
                       f"it first: intake receive {batch_id} --tag {code})", err=True)  # fmt: skip
            continue
        click.echo(f"{tag}: plug in its drive", err=True)
        watcher.scan_tag(tag)


def _table(watcher: Watcher) -> Table:
    table = Table(title=f"Bays (batch {watcher.options.batch_id})")
    columns = ("bay", "serial", "asset", "status", "state", "step", "progress", "MB/s", "ETA",
               "note")  # fmt: skip
    for col in columns:
        table.add_column(col)
    for bay in sorted(watcher.bays.values(), key=lambda b: b.name):
        pct = f"{bay.done / bay.total:.0%}" if bay.total else ""
        rate = f"{bay.rate / 1e6:.0f}" if bay.rate else ""
        eta = f"{(bay.total - bay.done) / bay.rate:.0f} s" if bay.rate and bay.total else ""
        progress = f"{pct} of {human_size(bay.total)}" if bay.total else ""
        table.add_row(bay.name, bay.serial, bay.asset_tag, bay.status, bay.state, bay.step,
                      progress, rate, eta, bay.note)  # fmt: skip
    return table


def _line(bay: Bay) -> str:
    detail = bay.certificate or bay.note
    asset = f" (asset {bay.asset_tag})" if bay.asset_tag else ""
    return f"{bay.name} {bay.serial}{asset}: {bay.status} {bay.state} {detail}".strip()


COMMANDS = [watch]
