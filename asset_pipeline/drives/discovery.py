"""Drive discovery: which block devices this station sees, and who they are.

udev's properties are used when udevd runs (it reads identify data the kernel does not keep);
otherwise identity comes from sysfs (including SCSI VPD pages) and the guard's kernel facts.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pyudev

from wipe import (
    BlockFacts,
    Health,
    Survey,
    check_health,
    inspect,
    list_disk_names,
    read_sysfs,
    refusal_reasons,
    sysfs_dir,
)

log = logging.getLogger(__name__)

# Kernel names that are never drives (RAM disks, compressed swap).
_NOT_DRIVES = ("ram", "zram")


@dataclass(frozen=True, slots=True)
class Drive:
    """One drive (or image file) as the station identifies it."""

    path: str
    name: str
    kind: str  # block | image
    transport: str  # nvme sata sas scsi usb mmc virtio loop dm md image unknown
    media_type: str  # hdd ssd nvme usb emmc virtual image unknown
    model: str
    vendor: str
    serial: str
    firmware: str
    wwn: str
    size_bytes: int
    logical_sector_size: int
    physical_sector_size: int
    rotational: bool | None
    removable: bool
    read_only: bool
    partitions: tuple[str, ...]
    holders: tuple[str, ...]
    mountpoints: tuple[str, ...]
    system: bool
    writable: bool
    refusal: tuple[str, ...] = ()
    loop_backing_file: str | None = None
    identity_source: str = "sysfs"  # udev | sysfs | file
    extra: dict[str, str] = field(default_factory=dict)
    health: Health | None = None  # SMART verdict; only when asked for (it runs smartctl)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (tuples become lists)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        data["health"] = self.health.to_dict() if self.health else None
        return data


def udev_running() -> bool:
    """True when udevd keeps its database (so udev properties are worth reading)."""
    return Path("/run/udev/control").exists() or Path("/run/udev/data").is_dir()


def discover(*, include_empty: bool = False) -> list[Drive]:
    """Every whole-disk block device with media, identified.

    Args:
        include_empty: also list devices of size 0 (unattached loop devices, empty readers).
    """
    drives: list[Drive] = []
    survey = Survey.take()  # one look at mounts, loop devices and open descriptors for all
    for name in list_disk_names():
        if name.startswith(_NOT_DRIVES):
            continue
        if not include_empty and read_sysfs(sysfs_dir(name), "size") in ("0", None):
            continue  # an unattached loop device or an empty reader: nothing to identify
        try:
            drive = identify(f"/dev/{name}", survey=survey)
        except OSError as e:  # vanished between listing and reading
            log.debug("skipping %s: %s", name, e)
            continue
        if drive.size_bytes or include_empty:
            drives.append(drive)
    return drives


def identify(
    path: str | os.PathLike[str], *, with_health: bool = False, survey: Survey | None = None
) -> Drive:
    """Identify one block device or image file.

    Args:
        path: device node or image file.
        with_health: also read the drive's SMART health (`wipe.check_health`), which a
            failing drive's plan depends on; it costs a smartctl run, so listings skip it.
        survey: the guard's look at the system, shared by a listing of many drives.

    Raises:
        TargetNotFound: nothing at `path`.
        NotATarget: `path` is a directory or another non-disk object.
    """
    drive = _identify(path, survey)
    if with_health:
        drive = replace(drive, health=check_health(drive.path, drive.transport))
    return drive


def present_serial(path: str) -> str | None:
    """The serial of the drive at `path` if it is there with media, else None (cheaply).

    A run asks this between its steps to learn that a drive was pulled or swapped: it reads the
    node and a few sysfs (or udev database) attributes, where `identify` also runs ioctls and
    reads the mount table. The serial is read the way `identify` reads it, so the two compare.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode):
        return Path(path).name if st.st_size > 0 else None
    if not stat.S_ISBLK(st.st_mode):
        return None
    link = Path(f"/sys/dev/block/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
    if not link.exists():
        return None
    directory = link.resolve()
    size = read_sysfs(directory, "size")
    if not size or not size.isdigit() or int(size) == 0:
        return None
    name = directory.name
    props = _udev_properties(name) if udev_running() else {}
    serial = (_identity_from_udev(props) if props else {}).get("serial") or _sysfs_serial(name)
    backing = read_sysfs(directory, "loop/backing_file")
    if not serial and backing:
        serial = Path(backing.removesuffix(" (deleted)")).name
    return serial


def _identify(path: str | os.PathLike[str], survey: Survey | None) -> Drive:
    facts = inspect(path)
    if facts.kind == "image":
        return _image_drive(facts, survey)
    props = _udev_properties(facts.name) if udev_running() else {}
    ident = _identity_from_udev(props) if props else {}
    sysfs = _identity_from_sysfs(facts.name)
    merged = {
        k: ident.get(k) or sysfs.get(k, "")
        for k in ("model", "vendor", "serial", "firmware", "wwn")
    }
    if facts.loop_backing_file and not merged["serial"]:
        # A loop device has no identify data; its backing file is what tells two apart.
        merged["model"] = merged["model"] or "Linux loop device"
        merged["serial"] = Path(facts.loop_backing_file.removesuffix(" (deleted)")).name
    transport = _transport(facts, props)
    reasons = refusal_reasons(facts, survey=survey)
    return Drive(
        path=facts.path,
        name=facts.name,
        kind="block",
        transport=transport,
        media_type=_media_type(transport, facts),
        size_bytes=facts.size_bytes,
        logical_sector_size=facts.logical_sector_size,
        physical_sector_size=facts.physical_sector_size,
        rotational=facts.rotational,
        removable=facts.removable,
        read_only=facts.read_only,
        partitions=facts.partitions,
        holders=facts.holders,
        mountpoints=facts.mountpoints,
        system=facts.system,
        writable=not reasons,
        refusal=tuple(reasons),
        loop_backing_file=facts.loop_backing_file,
        identity_source="udev" if ident else "sysfs",
        **merged,
    )


def _image_drive(facts: BlockFacts, survey: Survey | None) -> Drive:
    # Judged as `wipe` and `process` judge a file: it must look like a disk image.
    reasons = refusal_reasons(facts, as_target=True, survey=survey)
    return Drive(
        path=facts.path,
        name=facts.name,
        kind="image",
        transport="image",
        media_type="image",
        model="disk image",
        vendor="",
        serial=facts.name,
        firmware="",
        wwn="",
        size_bytes=facts.size_bytes,
        logical_sector_size=facts.logical_sector_size,
        physical_sector_size=facts.physical_sector_size,
        rotational=None,
        removable=False,
        read_only=facts.read_only,
        partitions=(),
        holders=(),
        mountpoints=(),
        system=False,
        writable=not reasons,
        refusal=tuple(reasons),
        identity_source="file",
    )


def _udev_properties(name: str) -> dict[str, str]:
    try:
        device = pyudev.Devices.from_name(pyudev.Context(), "block", name)
    except (pyudev.DeviceNotFoundError, OSError):
        return {}
    return {k: v for k, v in device.properties.items() if k.startswith(("ID_", "DEVTYPE"))}


def _identity_from_udev(props: dict[str, str]) -> dict[str, str]:
    return {
        "model": _udev_text(props, "ID_MODEL"),
        "vendor": _udev_text(props, "ID_VENDOR"),
        "serial": props.get("ID_SERIAL_SHORT") or props.get("ID_SERIAL", ""),
        "firmware": props.get("ID_REVISION", ""),
        "wwn": props.get("ID_WWN_WITH_EXTENSION") or props.get("ID_WWN", ""),
    }


def _udev_text(props: dict[str, str], key: str) -> str:
    """A udev identity string as the drive reports it.

    udev replaces spaces by "_" in ID_MODEL/ID_VENDOR but keeps the exact bytes, \\x-escaped,
    in the _ENC variant; decoding that keeps a model's own underscores.
    """
    encoded = props.get(f"{key}_ENC")
    if encoded:
        raw = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), encoded)
        return " ".join(raw.split())
    return props.get(key, "").replace("_", " ").strip()


def _sysfs_serial(name: str) -> str:
    directory = sysfs_dir(name)
    device = directory / "device"
    return (
        read_sysfs(device, "serial")  # NVMe controller
        or read_sysfs(directory, "serial")  # virtio-blk keeps it on the disk itself
        or _vpd_serial(device)  # SCSI, and ATA through libata
        or _usb_serial(directory)
        or ""
    )


def _identity_from_sysfs(name: str) -> dict[str, str]:
    directory = sysfs_dir(name)
    device = directory / "device"
    serial = _sysfs_serial(name)
    wwn = read_sysfs(directory, "wwid") or read_sysfs(device, "wwid") or ""
    return {
        "model": read_sysfs(device, "model") or read_sysfs(device, "name") or "",
        "vendor": read_sysfs(device, "vendor") or "",
        "serial": serial or "",
        "firmware": read_sysfs(device, "firmware_rev")
        or read_sysfs(device, "rev")
        or read_sysfs(device, "fwrev")
        or "",
        "wwn": wwn,
    }


def _vpd_serial(device: Path) -> str:
    """Unit serial number from SCSI VPD page 0x80 (libata fills it from ATA IDENTIFY too)."""
    try:
        page = (device / "vpd_pg80").read_bytes()
    except OSError:
        return ""
    if len(page) < 4:
        return ""
    length = int.from_bytes(page[2:4], "big")
    return page[4 : 4 + length].decode("ascii", "replace").strip()


def _usb_serial(sysfs_path: Path) -> str:
    """The serial number (iSerialNumber) of the USB device a disk hangs off, or "".

    usb-storage bridges often answer no VPD page 0x80; udev's ID_SERIAL_SHORT is this value.
    The walk stops at the first ancestor with a `serial` attribute below the root hub (an
    interface such as 2-1:1.0 has none; the device 2-1 has it; the hub usb2 is never used).
    """
    parts = sysfs_path.parts
    for index in range(len(parts) - 1, 0, -1):
        name = parts[index]
        if re.fullmatch(r"usb\d+", name):
            return ""
        if re.fullmatch(r"\d+-[\d.]+", name):
            return read_sysfs(Path(*parts[: index + 1]), "serial") or ""
    return ""


def _transport(facts: BlockFacts, props: dict[str, str]) -> str:
    name = facts.name
    real = facts.sysfs_path or ""
    prefixes = {
        "nvme": "nvme",
        "loop": "loop",
        "mmcblk": "mmc",
        "vd": "virtio",
        "dm-": "dm",
        "md": "md",
    }
    for prefix, transport in prefixes.items():
        if name.startswith(prefix):
            return transport
    bus = props.get("ID_BUS", "")
    if "/usb" in real or bus == "usb":
        return "usb"
    if props.get("ID_ATA_SATA") == "1" or "/ata" in real or bus == "ata":
        return "sata"
    if "/end_device-" in real or "/sas_" in real or props.get("ID_SCSI_SAS"):
        return "sas"
    # A disk behind a SCSI host adapter speaks SCSI, whatever carries it: virtio-scsi disks sit
    # under /virtioN/hostM and take sg3_utils commands (virtio-blk disks are vd*, see above).
    if bus == "scsi" or "/host" in real:
        return "scsi"
    return "unknown"


def _media_type(transport: str, facts: BlockFacts) -> str:
    if transport == "nvme":
        return "nvme"
    if transport == "mmc":
        return "emmc"
    if transport in ("loop", "dm", "md", "virtio"):
        return "virtual"
    if transport == "usb":
        return "usb"
    if facts.rotational is True:
        return "hdd"
    if facts.rotational is False:
        return "ssd"
    return "unknown"
