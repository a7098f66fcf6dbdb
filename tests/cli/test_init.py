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


def test_init_updates_an_existing_station_in_place(run_cli, station_home: Path) -> None:
    first = json.loads(run_cli("init", "--json").stdout)
    assert first["organization"] == "Refurbisher AB"  # the placeholder until named
    updated = run_cli("init", "--organization", "Återbruk Norr AB", "--org-number", "556677-8899",
                      "--site", "Sundsvall", "--station-name", "bänk-3", "--operator",
                      "Anna Berg", "--json")  # fmt: skip
    assert updated.exit_code == 0, updated.stderr
    out = json.loads(updated.stdout)
    assert out["status"] == "updated"
    assert (out["station_id"], out["key_fingerprint"]) == (
        first["station_id"], first["key_fingerprint"])  # fmt: skip
    assert out["changed"] == ["operator", "org_number", "organization", "site", "station_name"]
    config = tomllib.loads((station_home / "config.toml").read_text())
    assert config["station"] == {
        "id": first["station_id"],
        "name": "bänk-3",
        "organization": "Återbruk Norr AB",
        "org_number": "556677-8899",
        "site": "Sundsvall",
    }
    assert config["operator"]["default"] == "Anna Berg"
    events = run_cli("log", "verify", "--json")
    assert json.loads(events.stdout)["status"] == "ok"
    from asset_pipeline.station.context import Station

    station = Station(data_dir=station_home)
    with station.session() as session:
        from sqlalchemy import select

        from asset_pipeline.storage import AuditEvent

        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "station.identity_changed")
        )
        assert event.payload["changed"]["organization"] == {
            "from": "Refurbisher AB", "to": "Återbruk Norr AB"}  # fmt: skip
    station.close()
    again = json.loads(run_cli("init", "--organization", "Återbruk Norr AB", "--json").stdout)
    assert (again["status"], again["changed"]) == ("exists", [])


def test_init_cannot_change_the_station_id(run_cli) -> None:
    run_cli("init", "--station-id", "bank-1")
    result = run_cli("init", "--station-id", "bank-2")
    assert result.exit_code == 2
    assert "--station-id cannot change an existing station's id" in result.stderr
