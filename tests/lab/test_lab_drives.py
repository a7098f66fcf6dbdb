"""`asset-pipeline drives --json` in the guest: real drivers, udev identity, the system disk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from labkit import BAY, Lab
from labkit.layout import SYSTEM_DISK, SYSTEM_MOUNT

pytestmark = pytest.mark.lab

# disk id -> (transport, media type, model, serial); size comes from the bay.
EXPECTED = {
    "nvme0": ("nvme", "nvme", "QEMU NVMe Ctrl", "LABNVME0001"),
    "nvme1": ("nvme", "nvme", "QEMU NVMe Ctrl", "LABNVME0002"),
    "nvme2": ("nvme", "nvme", "QEMU NVMe Ctrl", "LABNVME0003"),
    "sata0": ("sata", "ssd", "LAB SATA SSD", "LABSATA0001"),
    "scsi0": ("scsi", "hdd", "LAB VSCSI DISK", "LABVSCSI001"),
    "usb0": ("usb", "usb", "QEMU HARDDISK", "LABUSB0001"),
    "sys0": ("virtio", "virtual", "", "LABSYS0001"),
}
SIZES = {disk_id: size for disk_id, _kind, _serial, size, _extra in BAY}


def by_path(drives: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["path"]: d for d in drives}


@pytest.fixture(scope="module")
def drives_json(lab: Lab) -> list[dict[str, Any]]:
    """The CLI's answer with udevd running (one call: Python under TCG takes ~10 s)."""
    result = lab.guest.cli("drives", "--json").check()
    return json.loads(result.output)


def check_identity(lab: Lab, drives: list[dict[str, Any]], source: str) -> None:
    found = by_path(drives)
    for disk_id, (transport, media, model, serial) in EXPECTED.items():
        drive = found[lab.dev[disk_id]]
        got = (drive["transport"], drive["media_type"], drive["model"], drive["serial"])
        assert got == (transport, media, model, serial), disk_id
        assert drive["size_bytes"] == SIZES[disk_id], disk_id
        assert drive["identity_source"] == source, disk_id
    assert len(drives) == len(EXPECTED), sorted(found)


def test_drives_json_shows_every_emulated_drive_with_udev(
    lab: Lab, drives_json: list[dict[str, Any]]
) -> None:
    check_identity(lab, drives_json, "udev")
    nvme = by_path(drives_json)[lab.dev["nvme0"]]
    assert nvme["firmware"]
    assert nvme["wwn"].startswith("nvme.1b36-")


def test_system_disk_is_not_a_writable_target(lab: Lab, drives_json: list[dict[str, Any]]) -> None:
    system = by_path(drives_json)[lab.dev[SYSTEM_DISK]]
    assert system["system"] is True
    assert system["writable"] is False
    assert system["mountpoints"] == [SYSTEM_MOUNT]
    assert any(f"{SYSTEM_MOUNT} is mounted from it" in r for r in system["refusal"])
    writable = {d["path"] for d in drives_json if d["writable"]}
    assert writable == {lab.dev[d] for d in EXPECTED if d != SYSTEM_DISK}


def test_drives_without_udev_identify_from_sysfs(lab: Lab) -> None:
    """With udevd's database hidden, identity comes from sysfs and must not change."""
    python, project = lab.guest.python, lab.guest.project
    result = lab.guest.run(
        "unshare -m sh -c 'mount -t tmpfs none /run/udev && "
        f"cd {project} && ASSET_PIPELINE_HOME=/tmp/station-sysfs "
        f"exec {python} -m asset_pipeline drives --json'",
        timeout=180,
    ).check()
    check_identity(lab, json.loads(result.output), "sysfs")
