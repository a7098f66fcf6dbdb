"""The lab's standard drive bay: which emulated drives a session gets, and their images."""

from __future__ import annotations

import subprocess
from pathlib import Path

from labkit.machine import Disk

MiB = 1024 * 1024
# 16-byte pattern written at the start of the blank images, so "unchanged" is checkable.
PATTERN = b"LAB-PATTERN-0123"
PLANTED_FILE = "customer/ledger.txt"
PLANTED_TEXT = b"LAB-PLANTED-FILE: quarterly ledger, keep private\n"
# Writes covering this 512-byte sector of the faulty NVMe drive fail (QEMU blkdebug).
FAULT_SECTOR = 40960  # 20 MiB into the drive

# (id, kind, serial, size, extra Disk fields). Sizes differ so that sizes identify drives too.
BAY: tuple[tuple[str, str, str, int, dict[str, object]], ...] = (
    ("nvme0", "nvme", "LABNVME0001", 64 * MiB, {}),
    ("nvme1", "nvme", "LABNVME0002", 48 * MiB, {"write_error_sector": FAULT_SECTOR}),
    ("nvme2", "nvme", "LABNVME0003", 24 * MiB, {"extra": {"smart_critical_warning": 4}}),
    ("sata0", "sata", "LABSATA0001", 40 * MiB, {"model": "LAB SATA SSD", "rotation_rate": 1}),
    ("scsi0", "scsi", "LABVSCSI001", 36 * MiB, {"vendor": "LAB", "model": "LAB VSCSI DISK"}),
    ("usb0", "usb", "LABUSB0001", 32 * MiB, {}),
    ("sys0", "virtio-blk", "LABSYS0001", 16 * MiB, {}),
)
# The drive mounted at /boot in the guest: the station's own system disk.
SYSTEM_DISK = "sys0"
SYSTEM_MOUNT = "/boot"


def standard_disks(directory: Path) -> list[Disk]:
    """Create the bay's image files in `directory` and return the disks over them.

    nvme0 holds an ext4 file system with a planted file (the NVMe Format test wipes it);
    sys0 holds an empty ext4 (the guest mounts it as its system disk); the others start with
    the pattern in their first MiB and are sparse after that.
    """
    directory.mkdir(parents=True, exist_ok=True)
    disks: list[Disk] = []
    for disk_id, kind, serial, size, fields in BAY:
        image = directory / f"{disk_id}.img"
        with image.open("wb") as f:
            f.truncate(size)
            if disk_id not in ("nvme0", SYSTEM_DISK):
                f.write(PATTERN * (MiB // len(PATTERN)))
        disks.append(Disk(disk_id, kind, image, serial, **fields))  # type: ignore[arg-type]
    _plant_ext4(directory / "nvme0.img", directory / "planted")
    _mkfs(directory / f"{SYSTEM_DISK}.img", "labsys", None)
    return disks


def hot_disk(directory: Path, disk_id: str, kind: str, serial: str, size: int) -> Disk:
    """A new image and disk for hot-plugging (pattern in its first MiB)."""
    image = directory / f"{disk_id}.img"
    with image.open("wb") as f:
        f.truncate(size)
        f.write(PATTERN * (MiB // len(PATTERN)))
    return Disk(disk_id, kind, image, serial)


def _plant_ext4(image: Path, tree: Path) -> None:
    target = tree / PLANTED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PLANTED_TEXT * 64)
    _mkfs(image, "customer", tree)


def _mkfs(image: Path, label: str, tree: Path | None) -> None:
    cmd = ["mkfs.ext4", "-q", "-F", "-L", label]
    if tree is not None:
        cmd += ["-d", str(tree)]
    subprocess.run([*cmd, str(image)], check=True, capture_output=True)
