"""The write guard at the CLI: exit 3, one line, and nothing recorded but the refusal.

`wipe` and `process` are asked to write a drive another process holds (O_EXCL or a plain read
descriptor), a copy of /etc/passwd, a loop device over a mounted one. Before, the O_EXCL case
printed the plan, exited 1 and left a failed device in the customer's batch, and the passwd
copy was overwritten and certified.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import MiB, needs_loop

HOLD = (
    "import os, sys, time\n"
    "flags = os.O_RDONLY | (os.O_EXCL if sys.argv[2] == 'excl' else 0)\n"
    "fd = os.open(sys.argv[1], flags)\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


@contextmanager
def held_open(path: Path, *, exclusive: bool) -> Iterator[str]:
    """Another process holds `path` open; yields how the guard names it ('pid N (comm)')."""
    mode = "excl" if exclusive else "plain"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline() == "held\n"
        comm = Path(f"/proc/{proc.pid}/comm").read_text().strip()
        yield f"pid {proc.pid} ({comm})"
    finally:
        proc.kill()
        proc.wait()


def _rows(home: Path, query: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{home / 'station.db'}")
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(query))]
    engine.dispose()
    return found


@pytest.fixture
def batch(run_cli) -> str:
    """An open batch under a Clear agreement with discovery, made through the CLI (with the
    registered operator process asks for before it touches a drive)."""
    for args in (
        ("init", "--organization", "Refurb AB", "--operator", "tekniker-1"),
        ("operator", "add", "tekniker-1", "--title", "Tekniker", "--contact", "+46 60 1"),
        ("customer", "add", "Kommunen AB", "--org-number", "212000-0142"),
        ("agreement", "add", "DPA-GUARD-1", "--customer", "Kommunen AB", "--level", "clear",
         "--discovery"),
    ):  # fmt: skip
        assert run_cli(*args).exit_code == 0
    result = run_cli("batch", "open", "--agreement", "DPA-GUARD-1", "--json")
    return str(json.loads(result.stdout)["id"])


@needs_loop
@pytest.mark.parametrize("exclusive", [True, False], ids=["o_excl", "read_only"])
def test_wipe_of_a_held_device_exits_3_before_any_record(
    run_cli, make_loop, station_home: Path, exclusive: bool
) -> None:
    dev = make_loop(8 * MiB)
    assert run_cli("init").exit_code == 0
    with held_open(dev, exclusive=exclusive) as holder:
        result = run_cli("wipe", str(dev), "--level", "clear", "--yes")
    assert result.exit_code == 3
    assert result.stderr == f"Error: refusing to write {dev}: open in {holder}\n"
    assert result.stdout == ""  # no plan was printed
    assert _rows(station_home, "SELECT id FROM sanitization") == []


@needs_loop
@pytest.mark.parametrize("exclusive", [True, False], ids=["o_excl", "read_only"])
def test_process_of_a_held_device_leaves_only_the_refusal_event(
    run_cli, make_loop, station_home: Path, batch: str, exclusive: bool
) -> None:
    dev = make_loop(8 * MiB)
    with held_open(dev, exclusive=exclusive) as holder:
        result = run_cli("process", str(dev), "--batch", batch, "--yes")
    assert result.exit_code == 3
    assert result.stderr == f"Error: refusing to write {dev}: open in {holder}\n"
    assert _rows(station_home, "SELECT id FROM device") == []
    events = _rows(station_home, "SELECT event_type, payload FROM audit_event ORDER BY seq")
    types = [t for t, _ in events]
    assert types[-1] == "guard.refused"
    assert "device.detected" not in types
    payload = json.loads(events[-1][1]) if isinstance(events[-1][1], str) else events[-1][1]
    assert payload == {"path": str(dev), "reason": f"open in {holder}"}


def _passwd_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "laptop-17.img"  # named like an image; its content is not one
    shutil.copyfile("/etc/passwd", copy)
    return copy


def test_wipe_refuses_a_copy_of_etc_passwd_unless_forced(run_cli, tmp_path: Path) -> None:
    copy = _passwd_copy(tmp_path)
    before = copy.read_bytes()
    result = run_cli("wipe", str(copy), "--level", "clear", "--yes")
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: refusing to write {copy}: it does not look like a disk image (no partition "
        "table, file-system or volume signature, and not all zeros); --image forces it\n"
    )
    assert copy.read_bytes() == before
    forced = run_cli("wipe", str(copy), "--level", "clear", "--image", "--yes", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["outcome"] == "passed"
    assert copy.read_bytes() != before


def test_process_refuses_a_copy_of_etc_passwd(
    run_cli, tmp_path: Path, station_home: Path, batch: str
) -> None:
    copy = _passwd_copy(tmp_path)
    before = copy.read_bytes()
    result = run_cli("process", str(copy), "--batch", batch, "--yes")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: refusing to write {copy}: it does not look like")
    assert copy.read_bytes() == before
    assert _rows(station_home, "SELECT id FROM device") == []


@needs_loop
def test_drives_shows_why_a_loop_over_a_mounted_loop_is_not_writable(
    run_cli, make_loop, tmp_path: Path
) -> None:
    lower = make_loop(16 * MiB)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(lower)], check=True, capture_output=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", str(lower), str(mnt)], check=True)
    try:
        upper = make_loop(image=lower)
        rows = {r["path"]: r for r in json.loads(run_cli("drives", "--json").stdout)}
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert rows[str(upper)]["writable"] is False
    assert rows[str(upper)]["refusal"] == [
        f"{lower} (backing device of {upper}) is mounted at {mnt}"
    ]


def test_drives_shows_that_a_file_is_not_a_disk_image(run_cli, tmp_path: Path) -> None:
    copy = _passwd_copy(tmp_path)
    row = json.loads(run_cli("drives", str(copy), "--json").stdout)[-1]
    assert row["writable"] is False
    assert row["refusal"][0].startswith("it does not look like a disk image")
