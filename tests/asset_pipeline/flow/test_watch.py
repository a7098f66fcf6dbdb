"""Station mode end to end: drives attached while `watch` runs, processed concurrently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from asset_pipeline.storage import Certificate, Device, scans
from tests.asset_pipeline.flow.conftest import (
    cli,
    log_verifies,
    open_batch,
    pull,
    verify_certificate,
)
from tests.conftest import MiB, needs_loop


def _watch(station, batch: int, bays: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "watch", "--batch", str(batch),
         "--bays", bays, "--json", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _read_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """The next JSON line watch prints; fails after `timeout` seconds instead of hanging."""
    # A thread, not select: lines already in the pipe's read buffer are invisible to select.
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert got, f"watch printed nothing for {timeout} s"
    return json.loads(got[0])


def _lines(proc: subprocess.Popen[str], timeout: float) -> list[dict[str, Any]]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@needs_loop
def test_three_drives_attached_while_watching_are_all_certified(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    batch = open_batch(station)
    drives = [customer_drive() for _ in range(3)]
    proc = _watch(station, batch, f"{tmp_path}/kund-*.img", "--max-devices", "3")
    try:
        time.sleep(1.0)  # attach while it runs (those attached before start are found too)
        loops = [make_loop(image=d.image) for d in drives]
        lines = _lines(proc, timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    finals = {line["name"]: line for line in lines if line["status"] == "done"}
    assert sorted(finals) == sorted(dev.name for dev in loops)
    assert {line["state"] for line in finals.values()} == {"certified"}
    # they ran at the same time: every drive was working before the first one finished
    first_done = next(i for i, line in enumerate(lines) if line["status"] == "done")
    working = {line["name"] for line in lines[:first_done] if line["status"] == "working"}
    assert working == set(finals)

    with station.session() as session:
        devices = list(session.scalars(select(Device).where(Device.batch_id == batch)))
        certs = list(session.scalars(select(Certificate).where(Certificate.kind == "sanitization")))
    assert len(devices) == 3
    assert len(certs) == 3
    for line in finals.values():
        verify_certificate(station, line["certificate"])
    by_serial = {d.image.name: d for d in drives}
    for device in devices:
        planted = by_serial[device.serial].planted
        with station.session() as session:
            pre = scans.scan_counts(scans.latest_scan(session, device, "pre"))
            post = scans.scan_counts(scans.latest_scan(session, device, "post"))
        for category in ("personnummer", "email", "phone", "iban", "payment_card"):
            want = planted.totals[category] + planted.deleted[category]
            assert pre["findings"][category] == want, (device.serial, category)
        assert sum(post["findings"].values()) == 0
    assert log_verifies(station)
    report = cli(station, "batch", "report", str(batch), "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["devices"]
    assert sorted(r["outcome"] for r in rows) == ["sanitized"] * 3


@needs_loop
def test_drive_pulled_mid_wipe_ends_aborted_without_certificate(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    batch = open_batch(station, discovery=False)
    drive = customer_drive(size=1024 * MiB)
    proc = _watch(station, batch, f"{tmp_path}/kund-*.img", "--max-devices", "1")
    lines: list[dict[str, Any]] = []
    try:
        dev = make_loop(image=drive.image, direct_io=True)
        _wait_for_state(station, batch, "sanitizing")
        time.sleep(0.3)
        pull(dev, drive.image)
        lines = _lines(proc, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    final = [line for line in lines if line["status"] in ("done", "removed")][-1]
    assert final["state"] == "aborted"
    assert final["note"] == "device removed during sanitizing"
    with station.session() as session:
        device = session.scalar(select(Device).where(Device.batch_id == batch))
        assert (device.state, device.state_reason) == (
            "aborted",
            "device removed during sanitizing",
        )
        assert session.scalar(select(Certificate)) is None


@needs_loop
def test_ineligible_drive_is_shown_and_skipped(station, make_loop, tmp_path: Path) -> None:
    batch = open_batch(station)
    image = tmp_path / "kund-ro.img"
    image.write_bytes(b"\0" * MiB)
    dev = make_loop(image=image, read_only=True)
    proc = _watch(station, batch, f"{tmp_path}/kund-*.img")
    try:
        line = _read_line(proc, timeout=60)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert (line["name"], line["status"]) == (dev.name, "skipped")
    assert line["note"] == "not eligible: read-only"


def _wait_for_state(station, batch: int, state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with station.session() as session:
            device = session.scalar(select(Device).where(Device.batch_id == batch))
            if device is not None and device.state == state:
                return
        assert time.monotonic() < deadline, f"no device reached {state}"
        time.sleep(0.05)


@needs_loop
def test_same_drive_seen_again_while_its_run_stops_waits_then_starts_over(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    """A drive that shows up under a second name while a worker holds its serial waits.

    A re-plugged drive gets a new kernel name while its old node is still held (the lab sees
    sdd come back as sde), and a dual-ported drive shows up twice: one serial, two nodes. A
    second worker would wipe the same drive under a second device record. The loop device
    over a file of the same name is that second sighting (a loop device's serial is its
    backing file's name).
    """
    batch = open_batch(station, discovery=False)
    drive = customer_drive(size=1024 * MiB)
    again = tmp_path / "again" / drive.image.name
    again.parent.mkdir()
    subprocess.run(["cp", "--sparse=always", str(drive.image), str(again)], check=True)
    proc = _watch(station, batch, f"{tmp_path}/*kund-*.img", "--max-devices", "2")
    lines: list[dict[str, Any]] = []
    try:
        first = make_loop(image=drive.image, direct_io=True)
        _wait_for_state(station, batch, "sanitizing")
        second = make_loop(image=again, direct_io=True)
        deadline = time.monotonic() + 60
        while not lines or lines[-1]["name"] != second.name:  # its first line, then pull
            assert time.monotonic() < deadline, lines
            lines.append(_read_line(proc, timeout=60))
        pull(first, drive.image)
        lines += _lines(proc, timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    seconds = [line for line in lines if line["name"] == second.name]
    assert seconds[0]["status"] == "waiting", lines
    assert seconds[0]["note"] == f"the same drive is in bay {first.name}; waiting for it"
    firsts = [line for line in lines if line["name"] == first.name and line["status"] == "done"]
    assert firsts[-1]["state"] == "aborted"
    assert firsts[-1]["note"].startswith("device removed during ")
    assert lines.index(firsts[-1]) < lines.index(
        next(line for line in seconds if line["status"] == "working")
    )  # the second sighting started only after the first run had ended
    assert seconds[-1]["state"] == "certified", seconds
    with station.session() as session:
        devices = list(session.scalars(select(Device).where(Device.batch_id == batch)))
        assert [(d.state, d.path) for d in devices] == [("certified", str(second))]
        assert len(list(session.scalars(select(Certificate)))) == 1
    verify_certificate(station, seconds[-1]["certificate"])
    assert log_verifies(station)
