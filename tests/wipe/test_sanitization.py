"""Carrying out plans: outcomes for a vanished device, a cancel, and a destroy plan."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

from wipe_helpers import MiB, read_all

from wipe import choose, sanitize


def test_device_removed_mid_wipe_fails_with_the_reason(make_loop, tmp_path: Path) -> None:
    image = tmp_path / "removable.img"
    image.touch()
    os.truncate(image, 128 * MiB)
    dev = str(make_loop(image=image))
    pulled = threading.Event()

    def pull_the_plug(step: str, done: int, total: int) -> None:
        if done >= 16 * MiB and not pulled.is_set():
            pulled.set()
            # losetup -d on an open device only schedules the detach (autoclear); the media
            # goes away when the backing file shrinks and the capacity is re-read, as when a
            # card is pulled from a reader.
            subprocess.run(["losetup", "-d", dev], check=True)
            os.truncate(image, 0)
            subprocess.run(["losetup", "-c", dev], check=True)

    plan = choose("clear", "virtual")
    result = sanitize(dev, plan, on_progress=pull_the_plug)
    assert pulled.is_set()
    assert result.outcome == "failed"
    assert f"{dev} disappeared during the operation" in result.reason
    # A write still in flight may have re-grown the backing file before the capacity was read.
    assert re.search(r"its size changed from 134217728 to \d+ bytes", result.reason)
    assert result.verification is None
    assert result.device_gone  # a typed fact, not a string to match in the errors
    assert result.to_dict()["device_gone"] is True


def test_cancel_gives_an_aborted_result_and_a_rerun_starts_cleanly(make_loop) -> None:
    dev = str(make_loop(64 * MiB))
    cancel = threading.Event()

    def stop_early(step: str, done: int, total: int) -> None:
        if done >= 8 * MiB:
            cancel.set()

    plan = choose("clear", "virtual")
    first = sanitize(dev, plan, on_progress=stop_early, cancel=cancel)
    assert first.outcome == "aborted"
    assert first.reason == "interrupted during pass 1/1 random"
    again = sanitize(dev, plan)
    assert again.outcome == "passed"
    assert again.bytes_written == 64 * MiB


def test_destroy_plan_writes_nothing(tmp_path: Path) -> None:
    image = tmp_path / "usb.img"
    image.write_bytes(b"customer data" * 1000)
    plan = choose("purge", "usb")
    assert plan.method == "destroy"
    result = sanitize(str(image), plan)
    assert result.outcome == "failed"
    assert result.bytes_written == 0
    assert result.reason.startswith("not sanitized: Purge required")
    assert read_all(image) == b"customer data" * 1000


def test_result_json_has_the_contract_keys(make_loop) -> None:
    dev = str(make_loop(8 * MiB))
    data = sanitize(dev, choose("clear", "virtual")).to_dict()
    for key in ("target", "plan", "steps", "bytes_written", "errors", "verification", "outcome"):
        assert key in data
    assert set(data["plan"]) >= {"level", "method", "reason"}
    assert set(data["verification"]) >= {"method", "coverage", "mismatches"}
    assert data["outcome"] == "passed"
    assert data["bytes_written"] == 8 * MiB
