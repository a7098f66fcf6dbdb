"""One lab session: the standard bay booted, udev coldplugged, the system disk mounted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from labkit.console import ConsoleError
from labkit.guest import Guest
from labkit.layout import SYSTEM_DISK, SYSTEM_MOUNT, standard_disks
from labkit.machine import Disk


@dataclass
class Lab:
    """A booted guest plus where its drives are, on the host and in the guest."""

    guest: Guest
    workdir: Path  # host: images and scratch
    images: dict[str, Path]  # disk id -> host image file
    dev: dict[str, str]  # disk id -> guest device node at boot
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scratch(self) -> Path:
        """Host side of the guest's /tmp/lab share."""
        return self.guest.scratch


def start_lab(
    workdir: Path,
    *,
    project: Path | None,
    python: str | None = None,
    extra_disks: tuple[Disk, ...] = (),
) -> Lab:
    """Create the images, boot the guest, start udev, mount the system disk.

    `extra_disks` (images made by the caller) join the standard bay, e.g. for recordings.
    """
    start = time.monotonic()
    disks = [*standard_disks(workdir / "images"), *extra_disks]
    scratch = workdir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    guest = Guest(disks, scratch=scratch, project=project, python=python)
    timings = {"images": time.monotonic() - start}
    guest.boot()
    timings["boot"] = guest.boot_seconds
    try:
        timings["udev_coldplug"] = guest.start_udev().seconds
        dev = _locate(guest, disks)
        guest.run(f"mount {dev[SYSTEM_DISK]} {SYSTEM_MOUNT}").check()
    except Exception:
        guest.shutdown()
        raise
    timings["total"] = time.monotonic() - start
    return Lab(guest, workdir, {d.id: d.image for d in disks}, dev, timings)


def _locate(guest: Guest, disks: list[Disk]) -> dict[str, str]:
    serials = guest.serials()
    missing = [d.serial for d in disks if d.serial not in serials]
    if missing:
        raise ConsoleError(f"disks missing in the guest: {missing} (have {serials})")
    return {d.id: serials[d.serial] for d in disks}
