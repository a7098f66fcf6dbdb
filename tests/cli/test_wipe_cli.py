"""`asset-pipeline wipe`: the JSON contract, confirmation, guard exit code, Ctrl-C, stored state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

MiB = 1024 * 1024


def _image(tmp_path: Path, name: str = "customer-disk.img", size: int = 16 * MiB) -> Path:
    """A disk image full of customer text, with an MBR partition table written by sfdisk."""
    image = tmp_path / name
    image.write_bytes(b"customer data " * (size // 14) + b"x" * (size % 14))
    label(image)
    return image


def label(image: Path) -> None:
    """Give `image` an MBR partition table (one Linux partition), as sfdisk writes it."""
    subprocess.run(["sfdisk", "-q", str(image)], input="label: dos\n,,L\n", text=True,
                   check=True, capture_output=True)  # fmt: skip


def _stored(home: Path) -> list[tuple[str, str, dict]]:
    engine = create_engine(f"sqlite:///{home / 'station.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT method, outcome, result FROM sanitization ORDER BY id"))
        found = [(m, o, json.loads(r) if isinstance(r, str) else r) for m, o, r in rows]
    engine.dispose()
    return found


def test_wipe_image_json_contract(run_cli, tmp_path: Path, station_home: Path) -> None:
    image = _image(tmp_path)
    result = run_cli("wipe", str(image), "--level", "clear", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress bar, and JSON mode says nothing else
    data = json.loads(result.stdout)
    assert data["target"] == str(image)
    assert data["plan"]["level"] == "clear"
    assert data["plan"]["method"] == "overwrite-random"
    assert data["plan"]["reason"]
    assert data["bytes_written"] == 16 * MiB
    assert data["errors"] == []
    assert data["verification"]["method"] == "sample"
    assert data["verification"]["coverage"] >= 0.01
    assert data["verification"]["mismatches"] == []
    assert data["outcome"] == "passed"
    assert b"customer data" not in image.read_bytes()
    assert _stored(station_home)[-1][:2] == ("overwrite-random", "passed")


def test_full_verification_and_final_zero_pass(run_cli, tmp_path: Path) -> None:
    image = _image(tmp_path)
    result = run_cli(
        "wipe", str(image), "--level", "clear", "--method", "overwrite-random-zero",
        "--verify", "full", "--yes", "--json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [s["pattern"] for s in data["steps"]] == ["random", "zeros"]
    assert data["verification"]["coverage"] == 1.0
    assert image.read_bytes() == bytes(16 * MiB)


@pytest.mark.parametrize("typed", ["A7Q8", ".img", "9.img"])
def test_wrong_confirmation_writes_nothing(run_cli, tmp_path: Path, typed: str) -> None:
    image = _image(tmp_path, "disk-A7Q9.img")
    before = image.read_bytes()
    wrong = run_cli("wipe", str(image), "--level", "clear", input=f"{typed}\n")
    assert wrong.exit_code == 1
    assert wrong.stderr.endswith("Error: confirmation did not match; nothing was written\n")
    assert image.read_bytes() == before


def test_confirmation_is_the_name_without_its_extension(run_cli, tmp_path: Path) -> None:
    image = _image(tmp_path, "disk-A7Q9.img")
    right = run_cli("wipe", str(image), "--level", "clear", input="a7q9\n")
    assert right.exit_code == 0, right.stderr
    assert "outcome" in right.stdout
    assert b"customer data" not in image.read_bytes()


def test_guard_refusal_exits_3(run_cli, make_loop) -> None:
    dev = make_loop(4 * MiB, read_only=True)
    result = run_cli("wipe", str(dev), "--level", "clear", "--yes")
    assert result.exit_code == 3
    assert result.stderr == f"Error: refusing to write {dev}: read-only\n"


def test_wipe_a_loop_device(run_cli, make_loop, station_home: Path) -> None:
    dev = make_loop(8 * MiB)
    result = run_cli("wipe", str(dev), "--level", "clear", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["device"]["media_type"] == "virtual"
    assert data["plan"]["category"] == "clear"
    # SMART health is asked for every drive; a loop device has none (the lab has a failing one).
    assert data["health"] == {
        "status": "unknown", "source": "", "reasons": ["no SMART on a loop device"], "facts": {},
    }  # fmt: skip


def test_purge_of_an_image_plans_destruction_and_writes_nothing(
    run_cli, tmp_path: Path, station_home: Path
) -> None:
    image = _image(tmp_path)
    before = image.read_bytes()
    result = run_cli("wipe", str(image), "--level", "purge", "--yes", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["plan"]["method"] == "destroy"
    assert data["outcome"] == "failed"
    assert data["bytes_written"] == 0
    assert result.stderr.startswith("Error: wipe failed: not sanitized: Purge required")
    assert image.read_bytes() == before
    assert _stored(station_home)[-1][:2] == ("destroy", "failed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "purge", "--method", "overwrite-random"],
         "Error: overwrite-random reaches only clear on image media; the agreement requires "
         "purge\n"),
        (["--level", "clear", "--method", "nvme-format-ses1"],
         "Error: nvme-format-ses1 is not possible on this drive: the drive does not report "
         "support for it\n"),
    ],
)  # fmt: skip
def test_method_that_cannot_serve(run_cli, tmp_path: Path, args: list[str], message: str) -> None:
    image = _image(tmp_path)
    result = run_cli("wipe", str(image), *args, "--yes")
    assert result.exit_code == 1
    assert result.stderr == message


def test_missing_target(run_cli, tmp_path: Path) -> None:
    result = run_cli("wipe", str(tmp_path / "nope.img"), "--level", "clear", "--yes")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no such device or image file: {tmp_path / 'nope.img'}\n"


def test_ctrl_c_aborts_cleanly_and_a_rerun_passes(make_loop, tmp_path: Path, station_home: Path):
    image = tmp_path / "slow.img"
    image.touch()
    os.truncate(image, 1024 * MiB)
    dev = make_loop(image=image)
    cmd = [sys.executable, "-m", "asset_pipeline", "wipe", str(dev), "--level", "clear",
           "--verify", "full", "--yes", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while image.stat().st_blocks == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the backing file gains blocks once the first pass writes
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    data = json.loads(out)
    assert data["outcome"] == "aborted"
    assert data["reason"].startswith("interrupted during")
    assert err.strip().startswith("Error: wipe aborted: interrupted during")
    assert _stored(station_home)[-1][1] == "aborted"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["outcome"] == "passed"
    assert [row[1] for row in _stored(station_home)][-2:] == ["aborted", "passed"]
