"""Who else has a device or file open: every process's descriptors, and the kernel's claims.

Mounts, swap and device-mapper show in /proc and sysfs, but a process that merely holds a
descriptor (a backup tool reading the disk, a VM running on an image, `sleep < /dev/sdb`) shows
only in /proc/<pid>/fd. An exclusive claim the kernel keeps without a mount (a file system
lazily unmounted while still in use, bcache, an iSCSI target) shows nowhere but in the failure
of an O_EXCL open, so the guard tries one.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DevNo = tuple[int, int]
FileId = tuple[int, int]  # (st_dev, st_ino)

# udev's workers open every new or changed disk and partition for a moment to probe it.
PROBERS = frozenset({"(udev-worker)", "systemd-udevd"})

# A concurrent guard's own trial open is gone within microseconds; a real holder is not.
_EXCL_TRIES = 3
_EXCL_PAUSE = 0.02


@dataclass
class OpenTable:
    """Every open descriptor of every other process (by pid), indexed by what it points at."""

    block: dict[DevNo, set[int]] = field(default_factory=dict)  # device nodes, by st_rdev
    files: dict[FileId, set[int]] = field(default_factory=dict)  # regular files
    on_fs: dict[DevNo, set[int]] = field(default_factory=dict)  # anything on a file system
    own_block: set[DevNo] = field(default_factory=set)  # devices this process has open itself

    @classmethod
    def scan(cls, proc: str = "/proc") -> OpenTable:
        """Read /proc/<pid>/fd (and cwd, root) of every process but this one.

        Processes that vanish or cannot be read mid-scan are skipped: the scan is a snapshot.
        """
        table = cls()
        me = os.getpid()
        for entry in os.scandir(proc):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            links = _links(entry.path)
            if pid == me:
                table.own_block.update(_block_devnos(links))
                continue
            for st in links:
                if stat.S_ISBLK(st.st_mode):
                    devno = (os.major(st.st_rdev), os.minor(st.st_rdev))
                    table.block.setdefault(devno, set()).add(pid)
                elif stat.S_ISREG(st.st_mode):
                    table.files.setdefault((st.st_dev, st.st_ino), set()).add(pid)
                if not stat.S_ISBLK(st.st_mode) and os.major(st.st_dev):  # 0: pipes, sockets
                    devno = (os.major(st.st_dev), os.minor(st.st_dev))
                    table.on_fs.setdefault(devno, set()).add(pid)
        return table


def without_probers(pids: set[int]) -> set[int]:
    """`pids` without udev's workers, whose opens last only while they probe a device."""
    return {pid for pid in pids if _command(pid) not in PROBERS}


def describe(pids: set[int]) -> str:
    """`pid 412 (sleep), pid 977 (qemu-system-x86)`: who they are, for a refusal message."""
    return ", ".join(f"pid {pid} ({_command(pid)})" for pid in sorted(pids))


def exclusive_claim(path: str) -> str | None:
    """Why an O_EXCL open of the block device `path` fails (someone claims it), else None.

    The open is read-only and closed at once; a busy answer is retried briefly, so that a
    second guard trying the same device at the same moment is not taken for a holder.
    """
    for attempt in range(_EXCL_TRIES):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_EXCL | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.EBUSY:
                log.debug("O_EXCL trial of %s: %s", path, e)
                return None  # gone or unreadable: other checks speak for it
            if attempt + 1 < _EXCL_TRIES:
                time.sleep(_EXCL_PAUSE)
            continue
        os.close(fd)
        return None
    return "claimed exclusively by the kernel or another process (O_EXCL open: device busy)"


def _links(pid_dir: str) -> list[os.stat_result]:
    # Plain strings, not pathlib: a station has thousands of descriptors to look at.
    found: list[os.stat_result] = []
    try:
        names = [f"{pid_dir}/fd/{n}" for n in os.listdir(f"{pid_dir}/fd")]  # noqa: PTH208
    except OSError:  # gone, or a kernel thread
        return found
    for name in (*names, f"{pid_dir}/cwd", f"{pid_dir}/root"):
        try:
            found.append(os.stat(name))
        except OSError:
            continue
    return found


def _block_devnos(links: list[os.stat_result]) -> set[DevNo]:
    return {
        (os.major(st.st_rdev), os.minor(st.st_rdev)) for st in links if stat.S_ISBLK(st.st_mode)
    }


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() or "?"
    except OSError:
        return "?"
