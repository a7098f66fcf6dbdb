"""The QEMU command line of a lab guest: controllers, disks, 9p shares, serial and QMP sockets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Controllers every guest gets, so that hot-plug has a bus to plug into (AHCI cannot hot-plug).
CONTROLLERS = ("ahci,id=ahci", "qemu-xhci,id=xhci", "virtio-scsi-pci,id=vs")
# The most capable CPU TCG emulates (SSSE3 to AVX2): QEMU's default qemu64 lacks SSSE3, which
# every station CPU since 2006 has and hyperscan's compiled code needs (SIGILL without it).
CPU = "max"
# The machine's own identity as its firmware reports it (SMBIOS type 1 = system, type 3 =
# chassis), so that the station running on "the asset itself" has one to read in
# /sys/class/dmi/id. Values are this lab's own; QEMU's option syntax allows no commas in them.
SMBIOS = {
    "manufacturer": "LabMaker AB",
    "product": "LabBook 14 G2",
    "version": "rev A",
    "serial": "LABSYS-SN-0042",
    "uuid": "5d0b5f2c-4a6e-4c1b-9f4e-0c2a7d9e4242",
    "chassis_manufacturer": "LabMaker AB",
    "chassis_serial": "LABCHASSIS-0042",
    "asset_tag": "INV-LAB-0042",
}
# Drivers the guest loads from the host's module tree (dm-mod: holder tests; ext4: system disk).
GUEST_MODULES = (
    "nvme",
    "ahci",
    "sd_mod",
    "sg",
    "xhci-pci",
    "usb-storage",
    "uas",
    "virtio_scsi",
    "virtio_blk",
    "dm-mod",
    "ext4",
)


@dataclass(frozen=True, slots=True)
class Disk:
    """One emulated drive: a QEMU device over a raw image file on the host."""

    id: str  # QEMU device id; the block node is "<id>-node"
    kind: str  # nvme | sata | scsi | usb | virtio-blk
    image: Path
    serial: str
    model: str = ""  # SATA model / SCSI product (NVMe and USB have fixed QEMU names)
    vendor: str = ""  # SCSI vendor
    rotation_rate: int | None = None  # 1 = non-rotating (SATA, SCSI)
    write_error_sector: int | None = None  # blkdebug: writes touching this 512-byte sector fail
    ahci_port: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # more -device properties
    more_namespaces: tuple[Path, ...] = ()  # NVMe: images of namespaces 2, 3, ... (nvme-ns)

    @property
    def node(self) -> str:
        """The QEMU block node name."""
        return f"{self.id}-node"

    def blockdev(self) -> dict[str, Any]:
        """The `-blockdev` / QMP `blockdev-add` arguments for this disk's image."""
        image: dict[str, Any] = {"driver": "file", "filename": str(self.image)}
        if self.write_error_sector is not None:
            # blkdebug fails every write request that covers the sector, with EIO, each time.
            image = {
                "driver": "blkdebug",
                "image": image,
                "inject-error": [
                    {
                        "event": "write_aio",
                        "iotype": "write",
                        "errno": 5,
                        "sector": self.write_error_sector,
                        "once": False,
                    }
                ],
            }
        return {"driver": "raw", "node-name": self.node, "file": image}

    def blockdevs(self) -> list[dict[str, Any]]:
        """Every block node the disk needs: its image, then further namespaces' images."""
        nodes = [self.blockdev()]
        for nsid, image in enumerate(self.more_namespaces, 2):
            file = {"driver": "file", "filename": str(image)}
            nodes.append({"driver": "raw", "node-name": f"{self.id}-ns{nsid}-node", "file": file})
        return nodes

    def devices(self) -> list[dict[str, Any]]:
        """Every -device the disk needs: one, or an NVMe controller and its namespaces."""
        props = self.device()
        if not self.more_namespaces:
            return [props]
        drive = props.pop("drive")  # the controller holds no drive; each nvme-ns holds one
        names = [drive, *(f"{self.id}-ns{n}-node" for n in range(2, len(self.more_namespaces) + 2))]
        return [props] + [
            {"driver": "nvme-ns", "bus": self.id, "drive": name, "nsid": nsid}
            for nsid, name in enumerate(names, 1)
        ]

    def device(self) -> dict[str, Any]:
        """The `-device` / QMP `device_add` arguments."""
        props: dict[str, Any] = {"id": self.id, "drive": self.node, "serial": self.serial}
        if self.kind == "nvme":
            props["driver"] = "nvme"
        elif self.kind == "sata":
            props |= {"driver": "ide-hd", "bus": f"ahci.{self.ahci_port}"}
            if self.model:
                props["model"] = self.model
        elif self.kind == "scsi":
            props |= {"driver": "scsi-hd", "bus": "vs.0"}
            if self.model:
                props["product"] = self.model
            if self.vendor:
                props["vendor"] = self.vendor
        elif self.kind == "usb":
            props |= {"driver": "usb-storage", "bus": "xhci.0"}
        elif self.kind == "virtio-blk":
            props["driver"] = "virtio-blk-pci"
        else:
            raise ValueError(f"unknown disk kind {self.kind!r}")
        if self.rotation_rate is not None and self.kind in ("sata", "scsi"):
            props["rotation_rate"] = self.rotation_rate
        return props | self.extra


def command_line(
    *,
    kernel: Path,
    initrd: Path,
    serial_socket: Path,
    qmp_socket: Path,
    scratch: Path,
    project: Path | None,
    disks: list[Disk],
    memory_mib: int = 512,
) -> list[str]:
    """The full qemu-system-x86_64 argv (TCG: KVM on this kind of host hangs the guest)."""
    append = [
        "console=ttyS0",
        "quiet",
        "panic=-1",
        f"lab.disks={len(disks)}",
        f"lab.mods={','.join(GUEST_MODULES)}",
    ]
    if project is not None:
        append.append(f"lab.project={project}")
    argv = [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-machine",
        "pc",
        "-cpu",
        CPU,
        "-m",
        str(memory_mib),
        "-smp",
        "1",
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        " ".join(append),
        "-chardev",
        f"socket,id=ser0,path={serial_socket},server=on,wait=on",
        "-serial",
        "chardev:ser0",
        "-qmp",
        f"unix:{qmp_socket},server=on,wait=off",
        *_virtfs("/", "hostroot", readonly=True),
        *_virtfs(str(scratch), "scratch"),
    ]
    if project is not None:
        argv += _virtfs(str(project), "project")
    argv += _smbios()
    for controller in CONTROLLERS:
        argv += ["-device", controller]
    for disk in disks:
        for node in disk.blockdevs():
            argv += ["-blockdev", json.dumps(node)]
        for device in disk.devices():
            argv += ["-device", _device_option(device)]
    return argv


def _smbios() -> list[str]:
    s = SMBIOS
    system = (f"type=1,manufacturer={s['manufacturer']},product={s['product']},"
              f"version={s['version']},serial={s['serial']},uuid={s['uuid']}")  # fmt: skip
    chassis = (f"type=3,manufacturer={s['chassis_manufacturer']},serial={s['chassis_serial']},"
               f"asset={s['asset_tag']}")  # fmt: skip
    return ["-smbios", system, "-smbios", chassis]


def _virtfs(path: str, tag: str, *, readonly: bool = False) -> list[str]:
    if "," in path:
        raise ValueError(f"QEMU cannot share a path with a comma: {path}")
    option = f"local,path={path},mount_tag={tag},security_model=none,multidevs=remap"
    return ["-virtfs", option + (",readonly=on" if readonly else "")]


def _device_option(props: dict[str, Any]) -> str:
    driver = props.pop("driver")
    parts = [driver]
    for key, value in props.items():
        text = str(value)
        if "," in text:
            raise ValueError(f"device property {key}={text!r} contains a comma")
        parts.append(f"{key}={text}")
    return ",".join(parts)
