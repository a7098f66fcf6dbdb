"""The operator at the station: consent options, confirming a target by its serial, stopping."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from asset_pipeline.station.context import Station


def _use_operator(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    station = ctx.find_object(Station)
    if value and station is not None:
        station.operator_override = value


# Who runs this command: named on its log events and certificates. The same as the root
# group's `--operator`, here where the operator looks for it (`process --operator NAME`).
OPERATOR = click.option(
    "--operator",
    default=None,
    expose_value=False,
    callback=_use_operator,
    help="Who runs this (a registered operator; default: the root --operator or the config's).",
)

VERIFY = click.option(
    "--verify",
    "verify_method",
    type=click.Choice(("sample", "full")),
    default="sample",
    show_default=True,
    help="Read back a seeded sample (>= 1%) or the whole device after the wipe.",
)
RESTORE_HIDDEN = click.option(
    "--restore-hidden",
    is_flag=True,
    help="Consent to removing HPA/DCO hidden areas before the wipe (else such a drive fails).",
)
IMAGE = click.option(
    "--image",
    "force_image",
    is_flag=True,
    help="Write a regular file even though it does not look like a disk image.",
)


def confirm_serial(serial: str, kind: str) -> bool:
    """Ask for the last four characters of the serial (of the file name for an image).

    An image's name is taken without its extension: every `.img` would otherwise be
    confirmed by typing `.img`.
    """
    expected = (Path(serial).stem if kind == "image" else serial)[-4:]
    what = "file name" if kind == "image" else "serial number"
    answer = click.prompt(
        f"Type the last four characters of the {what} to confirm",
        err=True,
        default="",
        show_default=False,
    )
    return bool(expected) and answer.strip().casefold() == expected.casefold()


@contextmanager
def interrupts(cancel: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM sets `cancel` (the run stops cleanly); a second Ctrl-C is a hard stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, previous_int)

    previous_int = signal.signal(signal.SIGINT, handler)
    previous_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
