"""`asset-pipeline demo`: the station's main job on a synthetic customer drive."""

from __future__ import annotations

import sys

import click

from asset_pipeline.cli.live import PipelineView
from asset_pipeline.cli.output import emit, json_option, stderr_console
from asset_pipeline.demo.run import DemoOutcome, run_demo
from asset_pipeline.station.context import Station


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

    with PipelineView(err, enabled=sys.stderr.isatty()) as view:
        outcome = run_demo(station, use_loop=loop, note=note, report=view.update)
    if as_json:
        emit(outcome, True)
    else:
        device = outcome.device
        pre = (device.pre_scan or {}).get("findings", {})
        post = (device.post_scan or {}).get("findings", {})
        rows = [
            {
                "category": cat,
                "planted (files)": outcome.planted.get(cat, 0),
                "planted (deleted)": outcome.planted_deleted.get(cat, 0),
                "pre-scan": pre.get(cat, 0),
                "post-scan": post.get(cat, 0),
            }
            for cat in sorted(set(outcome.planted) | set(pre) | set(post))
        ]
        emit(rows, False, columns=tuple(rows[0]) if rows else (), title="Personal data found")
        emit(
            {
                "target": outcome.target,
                "batch": outcome.batch_id,
                "device": device.device_id,
                "state": device.state + (f" ({device.reason})" if device.reason else ""),
                "method": (device.plan or {}).get("method", "-"),
                "certificate (JSON)": device.certificate_json or "-",
                "certificate (PDF)": device.certificate_pdf or "-",
                "batch report (JSON)": outcome.report_json,
                "batch report (PDF)": outcome.report_pdf,
            },
            False,
            title="Demo",
        )
    if not device_certified(outcome):
        raise click.ClickException(
            f"the demo device ended {outcome.device.state}: {outcome.device.reason}"
        )


def device_certified(outcome: DemoOutcome) -> bool:
    """True when the demo drive got its certificate of sanitization."""
    return outcome.device.certified


COMMANDS = [demo]
