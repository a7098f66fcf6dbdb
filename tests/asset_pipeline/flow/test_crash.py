"""Crash safety: a station killed with SIGKILL mid-wipe certifies nothing until it is redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from asset_pipeline.storage import Certificate, Device, Sanitization
from tests.asset_pipeline.flow.conftest import (
    cli,
    log_verifies,
    open_batch,
    pull,
    verify_certificate,
)
from tests.conftest import MiB, needs_loop


def _state(station) -> tuple[int | None, str | None]:
    with station.session() as session:
        device = session.scalar(select(Device).order_by(Device.id.desc()))
        return (device.id, device.state) if device else (None, None)


def _start_and_kill_while_sanitizing(station, dev, batch: int, settle: float = 0.0) -> None:
    """Run `process` in a subprocess and SIGKILL it `settle` seconds into its sanitizing."""
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "process", str(dev), "--batch", str(batch),
         "--yes"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _state(station)[1] != "sanitizing":
            assert proc.poll() is None, "process ended before its wipe could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(settle)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _certificates(station) -> int:
    with station.session() as session:
        return session.scalar(select(func.count()).select_from(Certificate))


@needs_loop
def test_sigkill_mid_wipe_then_resume(station, make_loop, customer_drive) -> None:
    batch = open_batch(station, discovery=False)
    drive = customer_drive(size=1024 * MiB)
    dev = make_loop(image=drive.image, direct_io=True)  # to the disk, not the page cache
    _start_and_kill_while_sanitizing(station, dev, batch, settle=0.2)  # inside the 1 GiB wipe
    device_id, state = _state(station)
    assert state == "sanitizing"
    assert _certificates(station) == 0

    result = cli(station, "resume", "--json")
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)
    assert (outcomes["device_id"], outcomes["state"]) == (device_id, "certified")
    assert _certificates(station) == 1
    with station.session() as session:
        wipes = [w.outcome for w in session.scalars(
            select(Sanitization).where(Sanitization.device_id == device_id)
            .order_by(Sanitization.id)
        )]  # fmt: skip
    assert wipes == ["interrupted", "passed"]
    verify_certificate(station, outcomes["certificate_pdf"])
    assert log_verifies(station)


@needs_loop
def test_resume_with_the_drive_gone_aborts_it(station, make_loop, customer_drive) -> None:
    batch = open_batch(station, discovery=False)
    drive = customer_drive(size=512 * MiB)
    dev = make_loop(image=drive.image, direct_io=True)
    _start_and_kill_while_sanitizing(station, dev, batch)
    pull(dev, drive.image)
    result = cli(station, "resume", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["state"] == "aborted"
    assert out["reason"] == "device removed during sanitizing"
    assert _certificates(station) == 0
