"""`asset-pipeline drives`: this machine's disks and loop devices the test attaches."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import MiB, needs_loop
from wipe.blockdev import system_device_names


def test_system_disk_is_listed_as_system_and_not_writable(run_cli) -> None:
    rows = json.loads(run_cli("drives", "--json").stdout)
    system_names = set(system_device_names())
    system_rows = [r for r in rows if r["name"] in system_names]
    assert system_rows, f"no system disk among {[r['name'] for r in rows]}"
    for row in system_rows:
        assert row["system"] is True
        assert row["writable"] is False
        assert any("holds the running system" in why for why in row["refusal"])


@needs_loop
def test_attached_loop_device_is_listed_with_its_size(run_cli, make_loop) -> None:
    dev = make_loop(size=48 * MiB, sector_size=4096)
    rows = {r["path"]: r for r in json.loads(run_cli("drives", "--json").stdout)}
    row = rows[str(dev)]
    assert row["size_bytes"] == 48 * MiB
    assert row["logical_sector_size"] == 4096
    assert (row["transport"], row["system"], row["writable"]) == ("loop", False, True)
    assert row["serial"] == "disk0.img"


def test_image_file_argument_is_a_target(run_cli, tmp_path: Path) -> None:
    image = tmp_path / "kund.img"
    image.touch()
    os.truncate(image, 5 * MiB)
    rows = json.loads(run_cli("drives", str(image), "--json").stdout)
    row = rows[-1]
    assert (row["path"], row["kind"], row["size_bytes"], row["writable"]) == (
        str(image),
        "image",
        5 * MiB,
        True,
    )


def test_table_has_one_row_per_drive(run_cli) -> None:
    out = run_cli("drives").stdout
    assert "Drives" in out
    assert "writable" in out


def test_unknown_device_path(run_cli) -> None:
    result = run_cli("drives", "/dev/does-not-exist")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no such device or image file: /dev/does-not-exist\n",
    )


def test_directory_given_as_drive(run_cli, tmp_path: Path) -> None:
    result = run_cli("drives", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path} is a directory, not a block device or disk image file\n"
    )
