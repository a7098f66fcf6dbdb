"""Station mode on real drivers: `asset-pipeline watch` in the guest while drives come and go.

One scenario, run once (module fixture) and checked by the tests below: a station is set up
through the CLI; `watch --json` runs in the background with bays that name the hot-plugged
drives and the guest's system disk; an NVMe drive and a USB disk holding synthetic customer
data are plugged in over QMP; the USB disk is pulled while its bay is sanitizing and plugged
back (same serial, new QEMU device); watch ends by itself after three finished runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from labkit import BackgroundCli, Disk, Lab
from labkit.layout import SYSTEM_DISK

from asset_pipeline.demo.drive import build_demo_drive

pytestmark = pytest.mark.lab

MiB = 1 << 20
HOME = "/tmp/station-watch"  # the station's data directory, on the guest's tmpfs
NVME_SERIAL, USB_SERIAL, SYSTEM_SERIAL = "STNNVME0001", "STNUSB0001", "LABSYS0001"
NVME, USB, USB_AGAIN = "stnnvme", "stnusb", "stnusb2"  # QEMU ids; USB_AGAIN: plugged back
BAYS = "STN*,LABSYS*"  # the hot-plugged drives and the system disk, none of the standard bay
# Guest I/O under TCG runs at 40-65 MB/s: the USB disk's wipe (write + sample verify of
# 128 MiB) gives a few seconds in which to pull it; the NVMe drive formats itself.
SIZES = {NVME_SERIAL: 64 * MiB, USB_SERIAL: 128 * MiB}
Line = dict[str, Any]


@dataclass
class StationRun:
    """What the scenario produced: watch's lines, timings and the station's records."""

    batch: int
    lines: list[Line]
    exit_code: int
    images: dict[str, Path]  # serial -> host image
    plugged: dict[str, float] = field(default_factory=dict)  # QEMU id -> s to first bay line
    pulled_at: Line | None = None  # the last USB line before the pull
    cli_seconds: dict[str, float] = field(default_factory=dict)
    events: list[Line] = field(default_factory=list)  # `log export` of the batch

    def of(self, serial: str) -> list[Line]:
        """The lines of one drive, in order."""
        return [line for line in self.lines if line["serial"] == serial]


def cli(lab: Lab, run: StationRun | None, *args: str) -> str:
    """Run the CLI in the guest on the scenario's station; its stdout (checked)."""
    result = lab.guest.cli(*args, home=HOME, timeout=300).check()
    if run is not None:
        run.cli_seconds[" ".join(args[:2])] = result.seconds
    return result.output


def plug(lab: Lab, watch: BackgroundCli, disk: Disk, run: StationRun) -> None:
    """Hot-add `disk` and wait for its first bay line; note the time that took."""
    after = len(watch.lines())
    start = time.monotonic()
    lab.guest.hot_add(disk)
    watch.wait_for(lambda line: line["serial"] == disk.serial, timeout=60, after=after)
    run.plugged[disk.id] = time.monotonic() - start


@pytest.fixture(scope="module")
def run(lab: Lab) -> StationRun:
    """Set the station up, run the scenario, collect everything the tests look at."""
    images = {
        serial: build_demo_drive(lab.workdir / "images" / f"{serial}.img", seed=30 + i,
                                 size=size).image
        for i, (serial, size) in enumerate(SIZES.items())
    }  # fmt: skip
    assert all(holds_planted_data(image) for image in images.values())
    nvme = Disk(NVME, "nvme", images[NVME_SERIAL], NVME_SERIAL)
    usb = Disk(USB, "usb", images[USB_SERIAL], USB_SERIAL)
    usb_again = Disk(USB_AGAIN, "usb", images[USB_SERIAL], USB_SERIAL)

    out = StationRun(batch=0, lines=[], exit_code=-1, images=images)
    cli(lab, out, "init", "--organization", "Labbet AB", "--operator", "lab-tekniker")
    cli(lab, out, "operator", "add", "lab-tekniker", "--title", "Tekniker", "--contact", "lab")
    cli(lab, out, "customer", "add", "Kommunen AB", "--org-number", "212000-0142")
    cli(lab, out, "agreement", "add", "DPA-LAB-7", "--customer", "Kommunen AB", "--level",
        "clear")  # fmt: skip
    batch = json.loads(cli(lab, out, "batch", "open", "--agreement", "DPA-LAB-7", "--json"))
    out.batch = batch["id"]

    watch = BackgroundCli(lab.guest, "watch", "watch", "--batch", str(out.batch), "--bays", BAYS,
                          "--max-devices", "3", "--json", home=HOME)  # fmt: skip
    plugged: list[str] = []
    try:
        watch.wait_for(lambda line: line["status"] == "skipped", timeout=180)
        out.cli_seconds["watch ready"] = time.monotonic() - watch.started
        for disk in (nvme, usb):
            plug(lab, watch, disk, out)
            plugged.append(disk.id)
        out.pulled_at = watch.wait_for(
            lambda line: line["serial"] == USB_SERIAL and line["state"] == "sanitizing",
            timeout=180,
        )
        lab.guest.hot_remove(usb.id)
        plugged.remove(usb.id)
        gone = watch.wait_for(
            lambda line: line["serial"] == USB_SERIAL and line["status"] == "removed", timeout=120
        )
        assert gone["state"] == "aborted", watch.lines()[-10:]
        plug(lab, watch, usb_again, out)
        plugged.append(usb_again.id)
        out.exit_code = watch.wait(timeout=300)
    finally:
        watch.stop()
        out.lines = watch.lines()
        for disk_id in plugged:
            lab.guest.hot_remove(disk_id)
    assert out.exit_code == 0, watch.stderr()
    exported = cli(lab, None, "log", "export", "--batch", str(out.batch))
    out.events = [json.loads(line) for line in exported.splitlines() if line.strip()]
    return out


def final(run: StationRun, serial: str) -> Line:
    """The drive's last `done` line: where its (latest) run ended."""
    return [line for line in run.of(serial) if line["status"] == "done"][-1]


def verify_certificate(lab: Lab, run: StationRun, path: str) -> dict[str, Any]:
    report = json.loads(cli(lab, run, "cert", "verify", path, "--json"))
    assert report["verified"] is True, report
    return report


def holds_planted_data(image: Path) -> bool:
    data = image.read_bytes()
    return b"kundregister" in data or b"Utkast" in data or data[510:512] == b"\x55\xaa"


def test_system_disk_is_shown_as_not_eligible(lab: Lab, run: StationRun) -> None:
    system = Path(lab.dev[SYSTEM_DISK]).name
    first = run.lines[0]
    assert (first["name"], first["serial"], first["status"]) == (system, SYSTEM_SERIAL, "skipped")
    assert first["note"].startswith("not eligible: holds the running system")
    assert "mounted at /boot" in first["note"]
    assert [line["status"] for line in run.of(SYSTEM_SERIAL)] == ["skipped"]  # never worked on


def test_only_the_drives_the_bays_name_appear(run: StationRun) -> None:
    assert {line["serial"] for line in run.lines} == {SYSTEM_SERIAL, NVME_SERIAL, USB_SERIAL}


def test_hot_plugged_drives_show_up_by_serial_within_seconds(run: StationRun) -> None:
    print(f"QMP device_add -> first bay line: {run.plugged}; CLI runs: {run.cli_seconds}")
    assert set(run.plugged) == {NVME, USB, USB_AGAIN}
    assert all(seconds < 10 for seconds in run.plugged.values()), run.plugged
    assert run.of(NVME_SERIAL)[0]["name"].startswith("nvme")
    assert run.of(USB_SERIAL)[0]["name"].startswith("sd")


def test_nvme_drive_is_formatted_and_certified(lab: Lab, run: StationRun) -> None:
    end = final(run, NVME_SERIAL)
    assert end["state"] == "certified", end
    steps = {line["step"] for line in run.of(NVME_SERIAL) if line["state"] == "sanitizing"}
    assert "nvme-format-ses1" in steps  # flash at Clear: the drive's own erase comes first
    report = verify_certificate(lab, run, end["certificate"])
    assert report["kind"] == "sanitization"
    assert not holds_planted_data(run.images[NVME_SERIAL])


def test_usb_disk_pulled_mid_wipe_ends_aborted_without_certificate(run: StationRun) -> None:
    assert run.pulled_at is not None
    assert run.pulled_at["step"].startswith(("pass", "verify"))
    aborted = next(line for line in run.of(USB_SERIAL) if line["status"] == "done")
    assert aborted["state"] == "aborted"
    assert aborted["note"] == "device removed during sanitizing"
    assert aborted["certificate"] is None
    device = aborted["device_id"]
    events = [e for e in run.events if e["device_id"] == device]
    types = [e["event_type"] for e in events]
    end = types.index("device.aborted")
    assert types[end - 1] == "device.sanitizing"
    assert events[end]["payload"]["reason"] == "device removed during sanitizing"
    assert "certificate.issued" not in types[:end]


def test_usb_disk_plugged_back_starts_over_and_is_certified(lab: Lab, run: StationRun) -> None:
    lines = run.of(USB_SERIAL)
    aborted = next(line for line in lines if line["state"] == "aborted")
    end = final(run, USB_SERIAL)
    assert end["state"] == "certified", end
    assert end["device_id"] == aborted["device_id"]  # the same record, started over
    events = [e for e in run.events if e["device_id"] == end["device_id"]]
    types = [e["event_type"] for e in events]
    restart = types.index("device.detected", types.index("device.aborted"))
    assert events[restart]["payload"]["reason"] == "plugged in again; starting over"
    assert types[restart:] == [
        "device.detected", "device.identified", "device.guarded", "device.registered",
        "device.sanitizing", "device.verified", "device.post_scanned", "device.closed",
        "certificate.issued", "device.certified",
    ]  # fmt: skip
    verify_certificate(lab, run, end["certificate"])
    assert not holds_planted_data(run.images[USB_SERIAL])
