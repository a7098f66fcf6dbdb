"""What the kernel says about a block device or a disk image file.

The guard and the station's drive discovery both need the same facts (size, sector sizes, mounts,
holders, whether the running system lives there), so they are read here once, from sysfs and
/proc, with ioctls as the fallback when sysfs has no entry for the device.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from wipe.errors import NotATarget, TargetNotFound

SYS_BLOCK = Path("/sys/class/block")
SYS_DEV_BLOCK = Path("/sys/dev/block")

# Mount points whose backing device is "the running system": writing there destroys the station.
SYSTEM_MOUNTS = ("/", "/boot", "/boot/efi", "/usr", "/var")

_BLKROGET = 0x125E
_BLKSSZGET = 0x1268
_BLKPBSZGET = 0x127B
_BLKGETSIZE64 = 0x80081272

DevNo = tuple[int, int]


@dataclass(frozen=True, slots=True)
class BlockFacts:
    """Kernel facts about one write target (a block device or an image file)."""

    path: str
    kind: str  # "block" | "image"
    name: str  # kernel name ("loop3", "sda1") or the image file name
    size_bytes: int
    logical_sector_size: int
    physical_sector_size: int
    read_only: bool
    removable: bool = False
    rotational: bool | None = None
    devno: DevNo | None = None
    is_partition: bool = False
    parent: str | None = None  # whole-disk kernel name of a partition
    partitions: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()  # holders of the disk or any of its partitions
    mountpoints: tuple[str, ...] = ()  # mounts of the disk or any of its partitions
    swap: tuple[str, ...] = ()  # swap areas on the disk or its partitions
    system: bool = False  # carries the running system (/, /boot, /usr, /var or their slaves)
    loop_backing_file: str | None = None  # for an attached loop device
    attached_as: tuple[str, ...] = ()  # for an image: loop devices it backs
    sysfs_path: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def inspect(path: str | os.PathLike[str]) -> BlockFacts:
    """Read the facts of `path`, a block device node or a regular disk image file.

    Raises:
        TargetNotFound: nothing exists at `path`.
        NotATarget: `path` is a directory, socket or other non-disk object.
    """
    text = os.fspath(path)
    try:
        st = os.stat(text)
    except FileNotFoundError as e:
        raise TargetNotFound(text) from e
    if stat.S_ISBLK(st.st_mode):
        return _block_facts(text, (os.major(st.st_rdev), os.minor(st.st_rdev)))
    if stat.S_ISREG(st.st_mode):
        return _image_facts(text, st)
    raise NotATarget(text, _kind_name(st.st_mode))


def list_disk_names() -> list[str]:
    """Kernel names of whole disks (no partitions), as /sys/block lists them."""
    root = Path("/sys/block")
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir())


def sysfs_dir(name: str) -> Path:
    """The resolved sysfs directory of a block device kernel name."""
    return (SYS_BLOCK / name).resolve()


def read_sysfs(directory: Path, name: str) -> str | None:
    """One sysfs attribute as stripped text, or None when absent or unreadable."""
    try:
        return (directory / name).read_text(errors="replace").strip()
    except OSError:
        return None


def system_device_names(mounts: dict[DevNo, list[str]] | None = None) -> dict[str, str]:
    """Kernel names of devices that hold the running system, mapped to the reason.

    Includes the devices behind the system mount points and swap, their whole disks, and,
    through `slaves`, the disks under device-mapper, md or loop layers. `mounts` is the
    `mount_table()` when the caller has just read it.
    """
    found: dict[str, str] = {}
    mounts = mount_table() if mounts is None else mounts
    for mountpoint in SYSTEM_MOUNTS:
        for devno, points in mounts.items():
            if mountpoint in points:
                name = name_of(devno)
                if name:
                    _add_with_lower(found, name, f"{mountpoint} is mounted from it")
    for swap_name in swap_devices():
        _add_with_lower(found, swap_name, "it holds active swap")
    return found


def _add_with_lower(found: dict[str, str], name: str, reason: str) -> None:
    if name in found:
        return
    found[name] = reason
    directory = sysfs_dir(name)
    if (directory / "partition").exists():
        _add_with_lower(found, directory.parent.name, reason)
    slaves = directory / "slaves"
    if slaves.is_dir():
        for lower in slaves.iterdir():
            _add_with_lower(found, lower.name, reason)


def _block_facts(path: str, devno: DevNo) -> BlockFacts:
    link = SYS_DEV_BLOCK / f"{devno[0]}:{devno[1]}"
    if not link.exists():
        return _ioctl_facts(path, devno)
    directory = link.resolve()
    name = directory.name
    is_partition = (directory / "partition").exists()
    disk_dir = directory.parent if is_partition else directory
    partitions = tuple(sorted(p.name for p in disk_dir.iterdir() if (p / "partition").exists()))
    family = [disk_dir.name, *partitions] if not is_partition else [name]
    holders = tuple(sorted({h.name for n in family for h in children(n, "holders")}))
    mounts = mount_table()
    mountpoints: list[str] = []
    for member in family:
        member_devno = devno_of(member)
        if member_devno is not None:
            mountpoints.extend(mounts.get(member_devno, ()))
    system = system_device_names(mounts)
    swaps = set(swap_devices())
    queue = disk_dir / "queue"
    rotational = read_sysfs(queue, "rotational")
    backing = read_sysfs(directory, "loop/backing_file")
    return BlockFacts(
        path=path,
        kind="block",
        name=name,
        devno=devno,
        size_bytes=int(read_sysfs(directory, "size") or 0) * 512,
        logical_sector_size=int(read_sysfs(queue, "logical_block_size") or 512),
        physical_sector_size=int(read_sysfs(queue, "physical_block_size") or 512),
        read_only=read_sysfs(directory, "ro") == "1" or read_sysfs(disk_dir, "ro") == "1",
        removable=read_sysfs(disk_dir, "removable") == "1",
        rotational=None if rotational is None else rotational == "1",
        is_partition=is_partition,
        parent=disk_dir.name if is_partition else None,
        partitions=partitions if not is_partition else (),
        holders=holders,
        mountpoints=tuple(sorted(set(mountpoints))),
        swap=tuple(sorted(n for n in family if n in swaps)),
        system=any(n in system for n in family),
        loop_backing_file=backing or None,
        sysfs_path=str(directory),
        extra={"system_reason": next((system[n] for n in family if n in system), "")},
    )


def _ioctl_facts(path: str, devno: DevNo) -> BlockFacts:
    """Facts from ioctls alone, for a device node sysfs does not describe."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = struct.unpack("Q", fcntl.ioctl(fd, _BLKGETSIZE64, b"\0" * 8))[0]
        logical = struct.unpack("i", fcntl.ioctl(fd, _BLKSSZGET, b"\0" * 4))[0]
        physical = struct.unpack("I", fcntl.ioctl(fd, _BLKPBSZGET, b"\0" * 4))[0]
        read_only = struct.unpack("i", fcntl.ioctl(fd, _BLKROGET, b"\0" * 4))[0] != 0
    finally:
        os.close(fd)
    mounts = mount_table().get(devno, ())
    return BlockFacts(
        path=path,
        kind="block",
        name=Path(path).name,
        devno=devno,
        size_bytes=size,
        logical_sector_size=logical,
        physical_sector_size=physical,
        read_only=read_only,
        mountpoints=tuple(sorted(mounts)),
    )


def _image_facts(path: str, st: os.stat_result) -> BlockFacts:
    real = os.path.realpath(path)
    attached = tuple(
        f"/dev/{name}"
        for name in list_disk_names()
        if name.startswith("loop")
        and strip_deleted(read_sysfs(Path("/sys/block") / name, "loop/backing_file")) == real
    )
    return BlockFacts(
        path=path,
        kind="image",
        name=Path(path).name,
        size_bytes=st.st_size,
        logical_sector_size=512,
        physical_sector_size=512,
        read_only=not os.access(path, os.W_OK),
        swap=(real,) if real in swap_files() else (),
        attached_as=attached,
    )


def strip_deleted(text: str | None) -> str | None:
    """A loop backing-file path without the kernel's " (deleted)" mark."""
    if text and text.endswith(" (deleted)"):
        return text[: -len(" (deleted)")]
    return text


def children(name: str, kind: str) -> list[Path]:
    """The sysfs entries under `holders` or `slaves` of a block device (empty when none)."""
    directory = SYS_BLOCK / name / kind
    return list(directory.iterdir()) if directory.is_dir() else []


def devno_of(name: str) -> DevNo | None:
    """The (major, minor) of a block device kernel name, or None when sysfs has no entry."""
    text = read_sysfs(SYS_BLOCK / name, "dev")
    if not text or ":" not in text:
        return None
    major, minor = text.split(":", 1)
    return int(major), int(minor)


def name_of(devno: DevNo) -> str | None:
    """The kernel name of a block device number, or None when it is not a block device."""
    link = SYS_DEV_BLOCK / f"{devno[0]}:{devno[1]}"
    return link.resolve().name if link.exists() else None


def mount_table() -> dict[DevNo, list[str]]:
    """Mount points by device number, from mountinfo and psutil's view of /dev paths.

    mountinfo gives the kernel's own device numbers; psutil's device paths catch file systems
    (such as btrfs) whose mountinfo numbers are anonymous.
    """
    table: dict[DevNo, list[str]] = {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or ":" not in parts[2]:
            continue
        major, minor = (int(x) for x in parts[2].split(":", 1))
        table.setdefault((major, minor), []).append(_unescape(parts[4]))
    for part in psutil.disk_partitions(all=True):
        if not part.device.startswith("/dev/"):
            continue
        try:
            st = os.stat(part.device)
        except OSError:
            continue
        if stat.S_ISBLK(st.st_mode):
            points = table.setdefault((os.major(st.st_rdev), os.minor(st.st_rdev)), [])
            if part.mountpoint not in points:
                points.append(part.mountpoint)
    return table


def _unescape(text: str) -> str:
    return (
        text.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def _swap_entries() -> list[str]:
    try:
        lines = Path("/proc/swaps").read_text().splitlines()[1:]
    except OSError:
        return []
    return [_unescape(line.split()[0]) for line in lines if line.strip()]


def swap_devices() -> list[str]:
    """Kernel names of block devices that hold active swap (a swap file counts for its fs)."""
    names: list[str] = []
    for entry in _swap_entries():
        try:
            st = os.stat(entry)
        except OSError:
            continue
        devno = st.st_rdev if stat.S_ISBLK(st.st_mode) else st.st_dev
        name = name_of((os.major(devno), os.minor(devno)))
        if name:
            names.append(name)
    return names


def swap_files() -> set[str]:
    """Real paths of the active swap files."""
    return {os.path.realpath(e) for e in _swap_entries() if not e.startswith("/dev/")}


def _kind_name(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
