"""Shared fixtures: real loop devices over image files, and a station in a temp directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from asset_pipeline.cli import cli

# Evidence fixtures (station with a batch and device, result dicts, a PostgreSQL server).
pytest_plugins = ["evidence_fixtures"]

MiB = 1024 * 1024


def _can_use_loop() -> str | None:
    if os.geteuid() != 0:
        return "loop devices need root"
    if shutil.which("losetup") is None:
        return "losetup is not installed"
    if not Path("/dev/loop-control").exists():
        return "no /dev/loop-control"
    return None


LOOP_SKIP = _can_use_loop()
needs_loop = pytest.mark.skipif(LOOP_SKIP is not None, reason=LOOP_SKIP or "")


LoopFactory = Callable[..., Path]


@pytest.fixture
def make_loop(tmp_path: Path) -> Iterator[LoopFactory]:
    """Attach loop devices over images the test creates; detach each by its own name after.

    Call as `make_loop(size=64 * MiB, sector_size=512, read_only=False, image=None)`.
    """
    if LOOP_SKIP:
        pytest.skip(LOOP_SKIP)
    attached: list[str] = []

    def attach(
        size: int = 64 * MiB,
        *,
        sector_size: int = 512,
        read_only: bool = False,
        image: Path | None = None,
        direct_io: bool = False,
    ) -> Path:
        if image is None:
            image = tmp_path / f"disk{len(attached)}.img"
            image.touch()
            os.truncate(image, size)
        cmd = ["losetup", "-f", "--show", "--sector-size", str(sector_size)]
        if read_only:
            cmd.append("--read-only")
        if direct_io:
            cmd.append("--direct-io=on")
        dev = subprocess.run(
            [*cmd, str(image)], check=True, capture_output=True, text=True
        ).stdout.strip()
        attached.append(dev)
        return Path(dev)

    yield attach
    for dev in attached:
        subprocess.run(["losetup", "-d", dev], check=False, capture_output=True)


@pytest.fixture
def loop_device(make_loop: LoopFactory) -> Path:
    """One 64 MiB sparse loop device."""
    return make_loop()


@pytest.fixture
def station_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh station data directory, set through the environment as a user would."""
    home = tmp_path / "station"
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(home))
    monkeypatch.delenv("ASSET_PIPELINE_DB_URL", raising=False)
    return home


@pytest.fixture
def run_cli(station_home: Path) -> Callable[..., object]:
    """Invoke the CLI in-process; returns click's Result (stdout and stderr kept apart)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke
