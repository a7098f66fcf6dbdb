"""`watch` takes only drives on configured bays: the operator's own USB stick stays untouched.

Never run `watch --all-drives` (or an old watch without bays) in a test: on a shared machine it
would take every loop device other people's tests attach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from asset_pipeline.drives import discovery
from asset_pipeline.errors import ConfigError
from asset_pipeline.flow.watcher import Watcher, WatchOptions, matches_bays
from asset_pipeline.station.config import load_config, write_config
from asset_pipeline.storage import Device
from tests.asset_pipeline.flow.conftest import open_batch
from tests.conftest import MiB, needs_loop


def _watch(station, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    return subprocess.run([sys.executable, "-m", "asset_pipeline", "watch", *args],
                          env=env, capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _set_bays(station, bays: tuple[str, ...]) -> None:
    config = load_config(station.data_dir)
    write_config(station.data_dir, replace(config, bays=bays))


def test_no_bay_pattern_matches_nothing(tmp_path: Path) -> None:
    image = tmp_path / "stick.img"
    image.write_bytes(bytes(MiB))
    drive = discovery.identify(image)
    assert not matches_bays(drive, ())
    assert matches_bays(drive, ("stick*",))


def test_watcher_without_bays_refuses_to_start(station) -> None:
    with pytest.raises(ConfigError, match="no bays configured"):
        Watcher(station, WatchOptions(batch_id=1))
    Watcher(station, WatchOptions(batch_id=1, all_drives=True))  # the explicit opt-in


def test_watch_without_bays_refuses_and_says_how_to_configure(station) -> None:
    batch = open_batch(station)
    result = _watch(station, "--batch", str(batch), timeout=120)
    assert result.returncode == 1
    config = station.data_dir / "config.toml"
    assert result.stderr == (
        "Error: no bays configured, so watch would take every drive it sees (the operator's "
        "own USB stick too): name the drives with --bays 'sd[b-e],nvme*', or put "
        f'bays = ["sd[b-e]", "nvme*"] under [station] in {config}, or pass --all-drives to '
        "take every eligible drive\n"
    )
    assert result.stdout == ""
    with station.session() as session:
        assert session.scalar(select(Device)) is None


def test_bays_and_all_drives_together_is_a_usage_error(station) -> None:
    result = _watch(station, "--batch", "1", "--bays", "sd*", "--all-drives", timeout=120)
    assert result.returncode == 2
    assert "Error: --bays cannot be used with --all-drives" in result.stderr


def test_config_with_bays_that_are_not_patterns_is_refused(station) -> None:
    path = station.data_dir / "config.toml"
    path.write_text(path.read_text().replace("[station]", "[station]\nbays = 3", 1))
    result = _watch(station, "--batch", "1", timeout=120)
    assert result.returncode == 1
    assert result.stderr == f"Error: {path}: [station] bays must be a list of glob patterns\n"


@needs_loop
def test_configured_bays_take_the_customer_drive_and_leave_the_usb_stick(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    batch = open_batch(station, discovery=False)
    drive = customer_drive()
    stick = tmp_path / "operator-stick.img"
    stick.write_bytes(b"the operator's own files\n" * 40000)
    before = stick.read_bytes()
    customer_dev = make_loop(image=drive.image)
    stick_dev = make_loop(image=stick)
    _set_bays(station, (f"{tmp_path}/kund-*.img",))
    result = _watch(station, "--batch", str(batch), "--max-devices", "1", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["name"] for line in lines} == {customer_dev.name}
    assert lines[-1]["state"] == "certified"
    assert stick_dev.name not in result.stdout
    assert stick.read_bytes() == before
    with station.session() as session:
        assert [d.path for d in session.scalars(select(Device))] == [str(customer_dev)]
