"""`asset-pipeline scan TARGET`: personal-data scan of a drive or image (read-only)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from asset_pipeline.cli.live import StepBars
from asset_pipeline.cli.output import emit, human_size, json_option, stderr_console
from asset_pipeline.flow import device_scan


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar per pass on stderr (bytes, MB/s, ETA) when stderr is a terminal; None when piped."""
    on_terminal = sys.stderr.isatty()
    with StepBars(stderr_console(), enabled=on_terminal) as bars:
        if not on_terminal:
            yield None
            return

        def update(name: str, done: int, total: int) -> None:
            bars.step(f"{name} pass", done, total)

        yield update


@click.command("scan")
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--raw-only", is_flag=True, help="Only the raw pass (every byte, no file systems).")
@click.option(
    "--files-only", is_flag=True, help="Only the file pass (partitions, files, documents)."
)
@json_option
def scan(target: Path, raw_only: bool, files_only: bool, as_json: bool) -> None:
    """Scan a drive or image for personal data; reports counts and places, never values.

    The target is opened read-only, so drives the write guard refuses can be scanned.
    Distinct counts use a key made for this run; scans of a batch's devices go through
    the pipeline, which keys them per batch.

    \b
    Example:
        asset-pipeline scan /dev/sdb
        asset-pipeline scan customer-disk.img --raw-only --json
    """
    if raw_only and files_only:
        raise click.UsageError("--raw-only cannot be used with --files-only")
    passes = ("raw",) if raw_only else ("files",) if files_only else ("raw", "files")
    with progress_bar() as on_progress:
        report = device_scan.scan_target(target, os.urandom(32), passes, on_progress=on_progress)
    if as_json:
        emit(report.to_dict(), True)
        return
    # Findings in operating-system and program files are shown apart from user data.
    rows = [
        {
            "category": c,
            "count": v.count,
            "distinct": v.distinct,
            "in_system_files": report.system_files.get(c, 0),
        }
        for c, v in report.findings.items()
        if v.count
    ]
    click.echo(
        f"{target}: {human_size(report.bytes_scanned)} of {human_size(report.size_bytes)} "
        f"scanned in {report.duration_s:.1f} s ({', '.join(report.passes)})"
    )
    if rows:
        emit(
            rows,
            False,
            columns=("category", "count", "distinct", "in_system_files"),
            title="Findings",
        )
    else:
        click.echo(
            "No personal data found in what could be read."
            if report.not_scannable
            else "No personal data found."
        )
    if report.not_scannable:
        emit(
            [u.to_dict() for u in report.not_scannable],
            False,
            columns=("region", "reason"),
            title="Not scannable",
        )


COMMANDS = [scan]
