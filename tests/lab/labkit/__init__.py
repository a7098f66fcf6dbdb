"""Stdlib-only harness for the QEMU lab: build the guest, boot it, drive it over serial and QMP."""

from labkit import claims
from labkit.background import BackgroundCli
from labkit.console import ConsoleError, Result, SerialConsole
from labkit.guest import SCRATCH_IN_GUEST, Guest, default_cache_dir, skip_reason
from labkit.layout import BAY, standard_disks
from labkit.machine import Disk, command_line
from labkit.qmp import Qmp, QmpError
from labkit.session import Lab, start_lab

__all__ = [
    "BAY",
    "BackgroundCli",
    "SCRATCH_IN_GUEST",
    "ConsoleError",
    "Disk",
    "Guest",
    "Lab",
    "Qmp",
    "QmpError",
    "Result",
    "SerialConsole",
    "claims",
    "command_line",
    "default_cache_dir",
    "skip_reason",
    "standard_disks",
    "start_lab",
]
