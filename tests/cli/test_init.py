"""`asset-pipeline init` and station state on disk."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from asset_pipeline.cli import cli


def test_init_creates_config_and_database(run_cli, station_home: Path) -> None:
    result = run_cli("init", "--organization", "Refurb AB", "--operator", "anna", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "created"
    config = tomllib.loads((station_home / "config.toml").read_text())
    assert config["station"]["organization"] == "Refurb AB"
    assert config["operator"]["default"] == "anna"
    assert config["station"]["id"] == out["station_id"]
    assert (station_home / "station.db").exists()


def test_init_twice_keeps_the_station(run_cli) -> None:
    first = json.loads(run_cli("init", "--json").stdout)
    second = json.loads(run_cli("init", "--json").stdout)
    assert second["status"] == "exists"
    assert second["station_id"] == first["station_id"]


def test_data_dir_option_beats_environment(run_cli, tmp_path: Path, station_home: Path) -> None:
    other = tmp_path / "other"
    result = run_cli("--data-dir", str(other), "init", "--json")
    assert json.loads(result.stdout)["data_dir"] == str(other)
    assert (other / "config.toml").exists()
    assert not station_home.exists()


def test_data_dir_under_a_file_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(cli, ["--data-dir", str(blocker / "station"), "init"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot create data directory {blocker / 'station'}")
    assert result.stderr.count("\n") == 1


def test_read_only_data_dir_is_refused_and_nothing_written(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    target = tmp_path / "ro"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], check=True)
    try:
        result = CliRunner().invoke(cli, ["--data-dir", str(target), "customer", "list"])
        assert result.exit_code == 1
        assert result.stderr == f"Error: data directory {target} is not writable\n"
        assert list(target.iterdir()) == []
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_corrupt_config_is_one_clear_line(run_cli, station_home: Path) -> None:
    station_home.mkdir()
    (station_home / "config.toml").write_text("[station\nid=")
    result = CliRunner().invoke(cli, ["customer", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot read {station_home / 'config.toml'}:")


def test_commands_initialize_a_new_station_implicitly(run_cli, station_home: Path) -> None:
    result = run_cli("customer", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert (station_home / "config.toml").exists()
