"""Drive identification: real loop devices and image files here; the real kernel drivers'
sysfs paths and udev properties as the QEMU lab recorded them (tests/data/udev/*.txt, see
tests/data/README.md) for NVMe, AHCI, virtio-scsi, usb-storage and virtio-blk drives.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asset_pipeline.drives import discovery
from asset_pipeline.drives.discovery import _identity_from_udev, _transport, _usb_serial
from tests.conftest import MiB, needs_loop
from wipe import BlockFacts, NotATarget, TargetNotFound


@needs_loop
def test_identify_loop_device(make_loop) -> None:
    dev = make_loop(size=20 * MiB, sector_size=4096)
    drive = discovery.identify(dev)
    assert (drive.kind, drive.transport, drive.media_type) == ("block", "loop", "virtual")
    assert drive.size_bytes == 20 * MiB
    assert (drive.logical_sector_size, drive.system, drive.writable) == (4096, False, True)
    assert drive.model == "Linux loop device"
    assert drive.loop_backing_file is not None
    assert drive.loop_backing_file.endswith("disk0.img")


@needs_loop
def test_health_only_when_asked(make_loop) -> None:
    dev = make_loop(size=8 * MiB)
    assert discovery.identify(dev).health is None
    assert discovery.identify(dev).to_dict()["health"] is None
    drive = discovery.identify(dev, with_health=True)
    assert drive.to_dict()["health"] == {
        "status": "unknown", "source": "", "reasons": ["no SMART on a loop device"], "facts": {},
    }  # fmt: skip


@needs_loop
def test_discover_lists_attached_loop_but_not_empty_ones(make_loop) -> None:
    dev = make_loop(size=8 * MiB)
    paths = {d.path for d in discovery.discover()}
    assert str(dev) in paths
    assert all(d.size_bytes > 0 for d in discovery.discover())


def test_identify_image_file(tmp_path: Path) -> None:
    image = tmp_path / "laptop-42.img"
    image.touch()
    os.truncate(image, 7 * MiB + 512)
    drive = discovery.identify(image)
    assert (drive.kind, drive.transport, drive.serial, drive.size_bytes) == (
        "image",
        "image",
        "laptop-42.img",
        7 * MiB + 512,
    )
    assert drive.to_dict()["partitions"] == []


def test_identify_errors(tmp_path: Path) -> None:
    with pytest.raises(TargetNotFound):
        discovery.identify(tmp_path / "missing")
    with pytest.raises(NotATarget):
        discovery.identify(tmp_path)


UDEV = Path(__file__).resolve().parents[2] / "data" / "udev"

# recorded file -> (transport, model, vendor, serial)
EXPECTED = {
    "nvme0": ("nvme", "QEMU NVMe Ctrl", "", "LABNVME0001"),
    "sata0": ("sata", "LAB SATA SSD", "", "LABSATA0001"),
    "scsi0": ("scsi", "LAB VSCSI DISK", "LAB", "LABVSCSI001"),
    "usb0": ("usb", "QEMU HARDDISK", "QEMU", "LABUSB0001"),
    "sys0": ("virtio", "", "", "LABSYS0001"),
}


def recorded(disk: str) -> dict[str, str]:
    lines = (UDEV / f"{disk}.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def facts_for(props: dict[str, str]) -> BlockFacts:
    return BlockFacts(
        path=props["DEVNAME"],
        kind="block",
        name=Path(props["DEVNAME"]).name,
        size_bytes=1,
        logical_sector_size=512,
        physical_sector_size=512,
        read_only=False,
        sysfs_path="/sys" + props["DEVPATH"],
    )


@pytest.mark.parametrize("disk", sorted(EXPECTED))
def test_transport_from_sysfs_path_alone(disk: str) -> None:
    """Without udev (no properties) the sysfs path must give the transport."""
    assert _transport(facts_for(recorded(disk)), {}) == EXPECTED[disk][0]


@pytest.mark.parametrize("disk", sorted(EXPECTED))
def test_transport_with_udev_properties(disk: str) -> None:
    props = recorded(disk)
    assert _transport(facts_for(props), props) == EXPECTED[disk][0]


def test_virtio_scsi_disk_is_scsi_not_virtio() -> None:
    """virtio-scsi disks take SCSI commands (sg_sanitize, sg_format); only vd* are virtio-blk."""
    props = recorded("scsi0")
    assert "/virtio" in props["DEVPATH"]
    assert _transport(facts_for(props), {}) == "scsi"


@pytest.mark.parametrize("disk", sorted(EXPECTED))
def test_identity_from_recorded_udev_properties(disk: str) -> None:
    ident = _identity_from_udev(recorded(disk))
    _, model, vendor, serial = EXPECTED[disk]
    assert (ident["model"], ident["serial"]) == (model, serial)
    if vendor:
        assert ident["vendor"] == vendor


def test_udev_model_keeps_its_own_underscores() -> None:
    """ID_MODEL turns spaces into "_"; the _ENC form tells real underscores apart."""
    props = {"ID_MODEL": "WDC_WD10_X", "ID_MODEL_ENC": "WDC\\x20WD10_X\\x20\\x20"}
    assert _identity_from_udev(props)["model"] == "WDC WD10_X"


def test_usb_serial_is_read_from_the_usb_device_not_the_hub(tmp_path: Path) -> None:
    """usb-storage disks in the lab have no VPD page 0x80: the serial is the USB device's."""
    devpath = recorded("usb0")["DEVPATH"]  # .../usb2/2-1/2-1:1.0/host6/.../block/sdc
    disk_dir = tmp_path / devpath.lstrip("/")
    disk_dir.mkdir(parents=True)
    usb_device = tmp_path / devpath.lstrip("/").split("/2-1:1.0/")[0]
    (usb_device / "serial").write_text("LABUSB0001\n")
    (usb_device.parent / "serial").write_text("0000:00:06.0\n")  # the root hub's
    assert _usb_serial(disk_dir) == "LABUSB0001"


def test_usb_serial_is_empty_off_usb(tmp_path: Path) -> None:
    devpath = recorded("sata0")["DEVPATH"]
    disk_dir = tmp_path / devpath.lstrip("/")
    disk_dir.mkdir(parents=True)
    assert _usb_serial(disk_dir) == ""
