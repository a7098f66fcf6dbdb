"""`asset-pipeline process` and `resume`: one device (or the unfinished ones) through the flow."""

from __future__ import annotations

import sys
import threading

import click

from asset_pipeline.cli.live import PipelineView
from asset_pipeline.cli.operator import (
    IMAGE,
    OPERATOR,
    RESTORE_HIDDEN,
    VERIFY,
    confirm_serial,
    interrupts,
)
from asset_pipeline.cli.output import emit, json_option, stderr_console
from asset_pipeline.drives import discovery
from asset_pipeline.errors import AssetNotFound
from asset_pipeline.flow import pipeline, validation
from asset_pipeline.intake.dmi import read_identity
from asset_pipeline.station.context import Station
from asset_pipeline.station.identity import require_certifying
from asset_pipeline.storage import assets, batches


@click.command()
@click.argument("target")
@click.option("--batch", "batch_id", type=click.IntRange(min=1), required=True, help="Batch id.")
@VERIFY
@RESTORE_HIDDEN
@OPERATOR
@IMAGE
@click.option("--yes", is_flag=True, help="Do not ask for the serial confirmation.")
@click.option(
    "--asset",
    "asset_tag",
    default=None,
    help="Tag or serial of the customer asset the drive was taken out of (see `intake`).",
)
@click.option(
    "--asset-dmi",
    is_flag=True,
    help="The drive is inside the machine this station runs on: the asset is that machine, "
    "identified by its SMBIOS/DMI data.",
)
@json_option
@click.pass_obj
def process(
    station: Station,
    target: str,
    batch_id: int,
    verify_method: str,
    restore_hidden: bool,
    force_image: bool,
    yes: bool,
    asset_tag: str | None,
    asset_dmi: bool,
    as_json: bool,
) -> None:
    """Take one drive through the whole pipeline, from identification to certificate.

    The batch's agreement decides the level (clear or purge) and whether the drive is scanned
    for personal data before the wipe. Every step is logged; the device ends certified, failed
    (with the reason) or aborted, or, when the agreement asks a second person to validate,
    waits in post_scanned for `device validate`. Exit 0 when certified or waiting for
    validation; 3 when the write guard refuses. The station must name a real organisation and
    a registered operator (`init`, `operator add`) before anything is touched. With --asset
    (or --asset-dmi) the device is linked to the customer's asset, which the certificate names
    and the return report follows. A regular file is taken only when it looks like a disk image
    unless --image; a refused target leaves only the refusal in the log.

    \b
    Example:
        asset-pipeline process /dev/sdb --batch 4 --asset INV-0042
        asset-pipeline process laptop-17.img --batch 4 --yes --json
    """
    if asset_tag is not None and asset_dmi:
        raise click.UsageError("--asset cannot be used with --asset-dmi")
    drive = discovery.identify(target)
    asset = read_identity() if asset_dmi else asset_tag
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        require_certifying(station, session)
        if asset_tag is not None and assets.match_code(session, batch, asset_tag) is None:
            raise AssetNotFound(f"{asset_tag} in batch {batch_id} (receive it first: intake "
                                f"receive {batch_id} --tag {asset_tag})")  # fmt: skip
    if not yes and not confirm_serial(drive.serial or drive.name, drive.kind):
        raise click.ClickException("confirmation did not match; nothing was written")
    options = pipeline.Options(
        verify_method=verify_method, restore_hidden=restore_hidden, force_image=force_image
    )
    console = stderr_console()
    cancel = threading.Event()
    with PipelineView(console, enabled=sys.stderr.isatty()) as view, interrupts(cancel):
        outcome = pipeline.process(
            station, drive.path, batch_id, options=options, report=view.update, cancel=cancel,
            asset=asset,
        )  # fmt: skip
    render_outcomes([outcome], as_json)
    if not outcome.certified and outcome.reason != validation.AWAITING:
        raise click.ClickException(f"device {outcome.device_id} {outcome.state}: {outcome.reason}")


@click.command()
@VERIFY
@RESTORE_HIDDEN
@json_option
@click.pass_obj
def resume(station: Station, verify_method: str, restore_hidden: bool, as_json: bool) -> None:
    """Finish devices a crashed or killed station process left mid-pipeline.

    Each unfinished device continues with the step after its last logged state; an
    interrupted step is repeated from its start (an interrupted wipe is wiped again). A device
    that is no longer attached ends aborted and starts over when it is plugged in again.

    \b
    Example:
        asset-pipeline resume
    """
    options = pipeline.Options(verify_method=verify_method, restore_hidden=restore_hidden)
    pending = pipeline.unfinished_devices(station)
    console = stderr_console()
    if not pending:
        console.print("nothing to resume")
    cancel = threading.Event()
    outcomes = []
    with PipelineView(console, enabled=sys.stderr.isatty()) as view, interrupts(cancel):
        for device_id in pending:
            outcomes.append(
                pipeline.resume_device(
                    station, device_id, options=options, report=view.update, cancel=cancel
                )
            )
    render_outcomes(outcomes, as_json)
    if any(o.state not in ("certified",) for o in outcomes):
        raise click.ClickException("some devices did not end certified")


def render_outcomes(outcomes: list[pipeline.Outcome], as_json: bool) -> None:
    """Print outcomes as JSON (one document) or as a summary table."""
    if as_json:
        emit([vars(o) for o in outcomes] if len(outcomes) != 1 else vars(outcomes[0]), True)
        return
    rows = [
        {
            "device": o.device_id,
            "path": o.path,
            "serial": o.serial,
            "state": o.state,
            "method": (o.plan or {}).get("method", "-"),
            "pre-scan": sum((o.pre_scan or {}).get("findings", {}).values()) if o.pre_scan else "-",
            "post-scan": sum((o.post_scan or {}).get("findings", {}).values())
            if o.post_scan
            else "-",
            "certificate": o.certificate_pdf or "-",
            "reason": o.reason or "-",
        }
        for o in outcomes
    ]
    emit(rows, False, columns=tuple(rows[0]) if rows else (), title="Processed")


COMMANDS = [process, resume]
