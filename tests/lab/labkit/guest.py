"""A running lab guest: boot, run commands and the project's CLI, hot-plug disks, shut down."""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from labkit.console import ConsoleError, Result, SerialConsole
from labkit.initramfs import build_initramfs, find_kernel, tools_missing
from labkit.machine import Disk, command_line
from labkit.qmp import Qmp

SCRATCH_IN_GUEST = "/tmp/lab"


def skip_reason() -> str | None:
    """Why the lab cannot run on this host (None when it can)."""
    missing = tools_missing()
    if missing:
        return f"lab needs {', '.join(missing)} (apt-get install qemu-system-x86 busybox-static)"
    if find_kernel() is None:
        return "lab needs a kernel in /boot with its modules (apt-get install linux-image-amd64)"
    return None


def default_cache_dir() -> Path:
    """Where built initramfs files are kept between sessions (outside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asset-pipeline-lab"


class Guest:
    """One QEMU guest with the host's root as its userspace and the given disks."""

    def __init__(
        self,
        disks: list[Disk],
        *,
        scratch: Path,
        project: Path | None = None,
        python: str | None = None,
        cache_dir: Path | None = None,
        memory_mib: int = 512,
    ) -> None:
        found = find_kernel()
        if found is None:
            raise RuntimeError("no kernel with modules in /boot")
        kernel, version = found
        self.disks = {d.id: d for d in disks}
        self.scratch = scratch
        self.project = project
        self.python = python or str(Path(sys.prefix) / "bin" / "python")
        self._sockets = Path(tempfile.mkdtemp(prefix="lab-sock-"))
        initrd = build_initramfs(cache_dir or default_cache_dir(), version)
        self.argv = command_line(
            kernel=kernel,
            initrd=initrd,
            serial_socket=self._sockets / "serial.sock",
            qmp_socket=self._sockets / "qmp.sock",
            scratch=scratch,
            project=project,
            disks=disks,
            memory_mib=memory_mib,
        )
        self._stderr = scratch / "qemu.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.console: SerialConsole | None = None
        self.qmp: Qmp | None = None
        self.boot_seconds = 0.0

    def boot(self, timeout: float = 120.0) -> None:
        """Start QEMU and wait until the guest's shell answers."""
        start = time.monotonic()
        with self._stderr.open("wb") as stderr:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                preexec_fn=_die_with_parent,
            )
        try:
            self.console = SerialConsole(self._sockets / "serial.sock")
            self.console.script_dir = self.scratch
            self.console.script_dir_guest = SCRATCH_IN_GUEST
            self.console.read_until(rb"LAB-READY[^\n]*\n", timeout)
            self.qmp = Qmp(self._sockets / "qmp.sock")
            self.run("true")  # settles the line after the shell's start-up noise
        except Exception:
            self.shutdown()
            raise
        self.boot_seconds = time.monotonic() - start

    def run(self, cmd: str, *, timeout: float = 120.0) -> Result:
        """Run a shell command in the guest."""
        if self.console is None:
            raise ConsoleError("the guest is not running")
        return self.console.run(cmd, timeout=timeout)

    def cli(
        self,
        *args: str,
        timeout: float = 180.0,
        home: str = "/tmp/station",
        path_prepend: str | None = None,
    ) -> Result:
        """Run `python -m asset_pipeline ARGS` in the guest; stdout and stderr kept apart.

        `path_prepend` puts a guest directory first on PATH (for the lab's claim wrappers).
        """
        words = " ".join(shlex.quote(a) for a in args)
        err = f"cli-{time.monotonic_ns()}.stderr"
        path = f'PATH={shlex.quote(path_prepend)}:"$PATH" ' if path_prepend else ""
        cmd = (
            f"cd {shlex.quote(str(self.project or '/'))} && ASSET_PIPELINE_HOME={home} {path}"
            f"{shlex.quote(self.python)} -m asset_pipeline {words} 2>{SCRATCH_IN_GUEST}/{err}"
        )
        result = self.run(cmd, timeout=timeout)
        stderr_file = self.scratch / err
        stderr = stderr_file.read_text(errors="replace") if stderr_file.exists() else ""
        stderr_file.unlink(missing_ok=True)
        return Result(result.cmd, result.output, result.rc, result.seconds, stderr)

    def python_code(self, code: str, *, timeout: float = 180.0) -> Result:
        """Run a Python snippet with the project's interpreter (written to the scratch share)."""
        name = f"snippet-{time.monotonic_ns()}.py"
        (self.scratch / name).write_text(code)
        return self.run(
            f"cd {shlex.quote(str(self.project or '/'))} && "
            f"{shlex.quote(self.python)} {SCRATCH_IN_GUEST}/{name}",
            timeout=timeout,
        )

    def start_udev(self, timeout: float = 120.0) -> Result:
        """Start systemd-udevd and replay the boot-time events (coldplug), then settle."""
        return self.run(
            "SYSTEMD_IGNORE_CHROOT=1 /lib/systemd/systemd-udevd --daemon"
            " && udevadm trigger --type=subsystems --action=add"
            " && udevadm trigger --type=devices --action=add"
            " && udevadm settle --timeout=60",
            timeout=timeout,
        ).check()

    def serials(self) -> dict[str, str]:
        """Every guest disk's serial mapped to its /dev node (names are reused, serials not).

        Reads udev's ID_SERIAL_SHORT (USB disks have their serial only in the USB descriptor),
        falling back to sysfs (NVMe and virtio-blk `serial`, SCSI VPD page 0x80).
        """
        script = (
            "for d in /sys/block/*; do n=${d##*/}; "
            "s=$(udevadm info -q property -n /dev/$n 2>/dev/null "
            "| sed -n 's/^ID_SERIAL_SHORT=//p'); "
            '[ -n "$s" ] || s=$(cat $d/device/serial 2>/dev/null || cat $d/serial 2>/dev/null '
            "|| tail -c +5 $d/device/vpd_pg80 2>/dev/null | tr -d '\\000'); "
            'echo "/dev/$n" $s; done'
        )
        found: dict[str, str] = {}
        for line in self.run(script).check().output.splitlines():
            dev, _, serial = line.partition(" ")
            if serial.strip():
                found[serial.strip()] = dev
        return found

    def device_of(self, disk_id: str) -> str:
        """The guest's /dev node of a lab disk, found by its serial."""
        serial = self.disks[disk_id].serial
        dev = self.serials().get(serial)
        if dev is None:
            raise ConsoleError(f"no device with serial {serial} in the guest")
        return dev

    def hot_add(self, disk: Disk) -> None:
        """Plug `disk` in over QMP (NVMe, USB and SCSI disks can be hot-plugged)."""
        assert self.qmp is not None
        self.qmp.execute("blockdev-add", **disk.blockdev())
        props = disk.device()
        self.qmp.execute("device_add", **props)
        self.disks[disk.id] = disk

    def hot_remove(self, disk_id: str, timeout: float = 30.0) -> None:
        """Unplug a disk over QMP, wait for QEMU to confirm, then drop its block node."""
        assert self.qmp is not None
        disk = self.disks.pop(disk_id)
        self.qmp.execute("device_del", id=disk_id)
        self.qmp.wait_event(
            "DEVICE_DELETED", match=lambda e: e["data"].get("device") == disk_id, timeout=timeout
        )
        self.qmp.execute("blockdev-del", **{"node-name": disk.node})

    def shutdown(self) -> dict[str, Any]:
        """Sync the guest's disks, quit QEMU over QMP (a UART has no EOF), reap the process."""
        info: dict[str, Any] = {}
        try:
            if self.console is not None:
                self.run("sync", timeout=60)
            if self.qmp is not None:
                self.qmp.execute("quit")
        except Exception as e:  # noqa: BLE001 - the guest may be dead already; kill it below
            info["shutdown_error"] = str(e)
        if self.proc is not None:
            try:
                info["rc"] = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                info["rc"] = self.proc.wait()
        for closer in (self.console, self.qmp):
            if closer is not None:
                closer.close()
        self.console = self.qmp = None
        for name in ("serial.sock", "qmp.sock"):
            (self._sockets / name).unlink(missing_ok=True)
        self._sockets.rmdir()
        return info

    def qemu_stderr(self) -> str:
        """What QEMU printed (blkdebug's `aio failed`, device errors)."""
        return self._stderr.read_text(errors="replace")


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL when the test process dies, so no guest is left behind."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
