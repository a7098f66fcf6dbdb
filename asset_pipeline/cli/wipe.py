"""`asset-pipeline wipe`: sanitize one drive or image file with a verified method."""

from __future__ import annotations

import sys
import threading
from typing import Any

import click

from asset_pipeline.cli.live import StepBars
from asset_pipeline.cli.operator import RESTORE_HIDDEN, VERIFY, confirm_serial, interrupts
from asset_pipeline.cli.output import emit, human_size, json_option, stderr_console
from asset_pipeline.drives import discovery
from asset_pipeline.station.context import Station
from asset_pipeline.storage import sanitizations
from wipe import (
    LEVELS,
    OVERWRITES,
    WipeResult,
    all_methods,
    capabilities_of,
    check_writable,
    choose,
    detect_hidden_areas,
    restore_native_max,
    sanitize,
)

METHODS = (*OVERWRITES, *(m.name for m in all_methods()), "destroy")


@click.command("wipe")
@click.argument("target")
@click.option("--level", type=click.Choice(LEVELS), required=True, help="Required NIST level.")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help="Force a method (default: the strongest suitable one for the media).",
)
@VERIFY
@click.option("--seed", type=int, default=None, help="Seed of the sample verification.")
@RESTORE_HIDDEN
@click.option("--yes", is_flag=True, help="Do not ask for the serial confirmation.")
@json_option
@click.pass_obj
def wipe(
    station: Station,
    target: str,
    level: str,
    method: str | None,
    verify_method: str,
    seed: int | None,
    restore_hidden: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Sanitize TARGET (block device or image file) and verify the result.

    The plan (method and why) is chosen from the level, the media type and what the drive
    supports; Purge on media that cannot be purged plans "destroy" and writes nothing.
    Without --yes the operator types the last four characters of the serial number (of the
    file name for an image). Exit 0 when verified, 1 when failed or interrupted, 3 when the
    write guard refuses the target.

    \b
    Example:
        asset-pipeline wipe /dev/sdb --level purge
        asset-pipeline wipe customer.img --level clear --verify full --yes --json
    """
    drive = discovery.identify(target, with_health=True)
    check_writable(target)
    caps = capabilities_of(drive.path, drive.transport)
    plan = choose(level, drive.media_type, caps, method, drive.health)
    hidden = detect_hidden_areas(drive.path, drive.transport)
    console = stderr_console()
    if not as_json:
        console.print(f"[bold]{drive.path}[/] {drive.model} {human_size(drive.size_bytes)}")
        console.print(f"plan: {plan.method} ({plan.category}): {plan.reason}")
    identity = drive.to_dict()
    with station.session() as session:
        record = sanitizations.start_record(
            session, level=level, method=plan.method, identity=identity
        )
    if not yes and not confirm_serial(drive.serial or drive.name, drive.kind):
        _finish(station, record, "aborted", {"reason": "confirmation did not match"})
        raise click.ClickException("confirmation did not match; nothing was written")
    if hidden.status == "present":
        hidden = restore_native_max(drive.path, hidden, consent=restore_hidden)
    cancel = threading.Event()
    with StepBars(console, enabled=sys.stderr.isatty()) as bars, interrupts(cancel):
        result = sanitize(
            drive.path,
            plan,
            verify_method=verify_method,
            seed=seed,
            hidden=hidden if hidden.status != "not-checked" else None,
            on_progress=bars.step,
            cancel=cancel,
        )
    data = result.to_dict()
    data["device"] = {k: identity[k] for k in ("model", "serial", "media_type", "transport")}
    data["health"] = identity["health"]
    _finish(station, record, result.outcome, data)
    _render(result, data, as_json)
    if result.outcome != "passed":
        raise click.ClickException(f"wipe {result.outcome}: {result.reason}")


def _finish(station: Station, record: int, outcome: str, data: dict[str, Any]) -> None:
    with station.session() as session:
        sanitizations.finish_record(session, record, outcome=outcome, result=data)


def _render(result: WipeResult, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(data, True)
        return
    ver = data["verification"]
    emit(
        {
            "target": result.target,
            "plan": f"{result.plan.method} ({result.plan.category})",
            "bytes_written": human_size(result.bytes_written),
            "errors": len(result.errors),
            "verification": f"{ver['method']}, coverage {ver['coverage']:.2%}, "
            f"{len(ver['mismatches'])} mismatched ranges",
            "hidden_areas": result.hidden_areas.status if result.hidden_areas else "not checked",
            "health": data["health"]["status"],
            "outcome": result.outcome,
            "reason": result.reason or "-",
        },
        False,
    )


COMMANDS = [wipe]
