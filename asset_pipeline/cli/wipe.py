"""`asset-pipeline wipe`: sanitize one drive or image file with a verified method."""

from __future__ import annotations

import sys
import threading

import click

from asset_pipeline.cli.live import StepBars
from asset_pipeline.cli.operator import (
    IMAGE,
    OPERATOR,
    RESTORE_HIDDEN,
    VERIFY,
    confirm_serial,
    interrupts,
)
from asset_pipeline.cli.output import emit, human_size, json_option, stderr_console
from asset_pipeline.drives import discovery
from asset_pipeline.flow.sanitizing import WipeJob, WipeOptions, WipeRun, plan_wipe, run_wipe
from asset_pipeline.station.context import Station
from wipe import LEVELS, OVERWRITES, all_methods, check_target

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
@OPERATOR
@IMAGE
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
    force_image: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Sanitize TARGET (block device or image file) and verify the result.

    The plan (method and why) is chosen from the level, the media type and what the drive
    supports; Purge on media that cannot be purged plans "destroy" and writes nothing.
    Without --yes the operator types the last four characters of the serial number (of the
    file name without its extension for an image). A regular file is taken only when it looks
    like a disk image (partition table, file-system signature or all zeros) unless --image.
    Exit 0 when verified, 1 when failed or interrupted, 3 when the write guard refuses.

    \b
    Example:
        asset-pipeline wipe /dev/sdb --level purge
        asset-pipeline wipe customer.img --level clear --verify full --yes --json
    """
    drive = discovery.identify(target, with_health=True)
    check_target(target, force_image=force_image)
    job = plan_wipe(drive, level, method)
    console = stderr_console()
    if not as_json:
        console.print(f"[bold]{drive.path}[/] {drive.model} {human_size(drive.size_bytes)}")
        console.print(f"plan: {job.plan.method} ({job.plan.category}): {job.plan.reason}")

    def approve(_job: WipeJob) -> bool:
        return yes or confirm_serial(drive.serial or drive.name, drive.kind)

    options = WipeOptions(verify_method=verify_method, seed=seed, restore_hidden=restore_hidden)
    cancel = threading.Event()
    with StepBars(console, enabled=sys.stderr.isatty()) as bars, interrupts(cancel):
        run = run_wipe(
            station, job, options=options, approve=approve, on_progress=bars.step, cancel=cancel
        )
    if not run.approved:
        raise click.ClickException("confirmation did not match; nothing was written")
    _render(run, as_json)
    if run.outcome != "passed":
        raise click.ClickException(f"wipe {run.outcome}: {run.reason}")


def _render(run: WipeRun, as_json: bool) -> None:
    data = run.record
    if as_json:
        emit(data, True)
        return
    result = run.result
    ver = data.get("verification") or {}
    hidden = result.hidden_areas if result is not None else None
    emit(
        {
            "target": run.job.drive.path,
            "plan": f"{run.job.plan.method} ({run.job.plan.category})",
            "bytes_written": human_size(result.bytes_written if result is not None else 0),
            "errors": len(data.get("errors") or ()),
            "verification": f"{ver.get('method', 'none')}, coverage {ver.get('coverage', 0):.2%}, "
            f"{len(ver.get('mismatches') or ())} mismatched ranges",
            "hidden_areas": hidden.status if hidden else "not checked",
            "health": (data.get("health") or {}).get("status", "unknown"),
            "outcome": run.outcome,
            "reason": run.reason or "-",
        },
        False,
    )


COMMANDS = [wipe]
