"""Hot-plug: `asset_pipeline.drives.hotplug.block_events()` in the guest sees drives come and go.

A USB disk and an NVMe drive are plugged in and out over QMP while a watcher in the guest
writes every event it gets (udev-enriched, so with serials) as a JSON line to the shared
scratch directory, where the test reads it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from labkit import SCRATCH_IN_GUEST, Lab
from labkit.layout import MiB, hot_disk

pytestmark = pytest.mark.lab

WATCHER = """
import dataclasses, json, sys
from asset_pipeline.drives.hotplug import block_events

with open(sys.argv[1], "a") as out:
    for event in block_events(timeout=120):
        out.write(json.dumps(dataclasses.asdict(event)) + "\\n")
        out.flush()
"""

Event = dict[str, Any]


def wait_for(
    read: Callable[[], list[Event]], match: Callable[[Event], bool], timeout: float
) -> Event:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in read():
            if match(event):
                return event
        time.sleep(0.1)
    raise AssertionError(f"no matching event within {timeout} s; got {read()}")


def test_usb_and_nvme_hot_plug_seen_with_serials(lab: Lab) -> None:
    guest = lab.guest
    events_file = lab.scratch / "events.jsonl"
    (lab.scratch / "watcher.py").write_text(WATCHER)

    def read() -> list[Event]:
        if not events_file.exists():
            return []
        return [json.loads(line) for line in events_file.read_text().splitlines() if line]

    pid = (
        guest.run(
            f"cd {guest.project} && {guest.python} {SCRATCH_IN_GUEST}/watcher.py "
            f"{SCRATCH_IN_GUEST}/events.jsonl >{SCRATCH_IN_GUEST}/watcher.log 2>&1 & echo $!"
        )
        .check()
        .output.strip()
    )
    try:
        # Handshake: poke the system disk until the watcher reports it, so it is listening.
        system = lab.dev["sys0"]
        deadline = time.monotonic() + 120
        while not any(e["action"] == "change" and e["path"] == system for e in read()):
            assert time.monotonic() < deadline, (lab.scratch / "watcher.log").read_text()
            guest.run(f"udevadm trigger --action=change {system}").check()
            time.sleep(1)

        usb = hot_disk(lab.workdir / "images", "hotusb", "usb", "HOTUSB0001", 20 * MiB)
        nvme = hot_disk(lab.workdir / "images", "hotnvme", "nvme", "HOTNVME0001", 28 * MiB)
        added: dict[str, Event] = {}
        latency: dict[str, float] = {}
        for disk in (usb, nvme):
            start = time.monotonic()
            guest.hot_add(disk)
            added[disk.id] = wait_for(
                read,
                lambda e, s=disk.serial: e["action"] == "add" and e["serial"] == s,
                timeout=30,
            )
            latency[disk.id] = time.monotonic() - start
        assert added["hotusb"]["devtype"] == "disk"
        assert added["hotusb"]["path"].startswith("/dev/sd")
        assert added["hotnvme"]["devtype"] == "disk"
        assert added["hotnvme"]["path"].startswith("/dev/nvme")
        assert all(seconds < 10 for seconds in latency.values()), latency

        for disk_id in ("hotusb", "hotnvme"):
            name = added[disk_id]["name"]
            guest.hot_remove(disk_id)
            wait_for(read, lambda e, n=name: e["action"] == "remove" and e["name"] == n, 30)
        print(f"hot-plug add latency (QMP device_add -> event on the host): {latency}")
    finally:
        guest.run(f"kill {pid} 2>/dev/null; true")
        for disk_id in ("hotusb", "hotnvme"):
            if disk_id in guest.disks:
                guest.hot_remove(disk_id)
