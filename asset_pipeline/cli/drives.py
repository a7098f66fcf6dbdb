"""`asset-pipeline drives`: the block devices (and image files) this station sees."""

from __future__ import annotations

from pathlib import Path

import click

from asset_pipeline.cli.output import emit, human_size, json_option
from asset_pipeline.drives import discovery


@click.command()
@click.argument("images", nargs=-1, type=click.Path(path_type=Path))
@click.option("--all", "include_empty", is_flag=True, help="Also list empty devices (size 0).")
@json_option
def drives(images: tuple[Path, ...], include_empty: bool, as_json: bool) -> None:
    """List block devices with identity, size and whether they may be written.

    Disk image files given as arguments are listed as targets too. The `writable`
    column is the write guard's verdict; `refusal` says why not.

    \b
    Example:
        asset-pipeline drives --json
        asset-pipeline drives customer-disk.img
    """
    found = discovery.discover(include_empty=include_empty)
    found += [discovery.identify(path) for path in images]
    if as_json:
        emit([d.to_dict() for d in found], True)
        return
    rows = [
        {**d.to_dict(), "size": human_size(d.size_bytes), "why_not": "; ".join(d.refusal)}
        for d in found
    ]
    emit(
        rows,
        False,
        columns=(
            "path",
            "transport",
            "media_type",
            "model",
            "serial",
            "size",
            "system",
            "writable",
            "why_not",
        ),
        title="Drives",
    )


COMMANDS = [drives]
