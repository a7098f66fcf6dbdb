"""Attaching an image file as a loop device (for the demo and the benchmarks), and detaching it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asset_pipeline.errors import PipelineError


class LoopError(PipelineError):
    """losetup could not attach or detach a loop device."""


def can_attach() -> bool:
    """True when this process may attach loop devices (root, losetup, loop-control)."""
    return (
        os.geteuid() == 0
        and shutil.which("losetup") is not None
        and Path("/dev/loop-control").exists()
    )


def attach(image: Path, *, sector_size: int = 512, direct_io: bool = False) -> str:
    """Attach `image` to the first free loop device and return its path.

    Raises:
        LoopError: losetup failed.
    """
    cmd = ["losetup", "-f", "--show", "--sector-size", str(sector_size)]
    if direct_io:
        cmd.append("--direct-io=on")
    try:
        out = subprocess.run([*cmd, str(image)], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise LoopError(f"cannot attach {image}: {e.stderr.strip() or e.returncode}") from e
    return out.stdout.strip()


def detach(device: str) -> None:
    """Detach one loop device by its own name.

    Raises:
        LoopError: losetup failed.
    """
    try:
        subprocess.run(["losetup", "-d", device], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise LoopError(f"cannot detach {device}: {e.stderr.strip() or e.returncode}") from e


@contextmanager
def attached(image: Path, **options: object) -> Iterator[str]:
    """Attach `image` for the duration of a block, then detach that device."""
    device = attach(image, **options)  # type: ignore[arg-type]
    try:
        yield device
    finally:
        detach(device)
