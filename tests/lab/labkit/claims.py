"""Lying identify data: wrappers that make an emulated drive claim a feature QEMU lacks.

QEMU's SATA disk has no ATA Security feature set and its scsi-hd cannot list opcodes, so the
wipe engine (rightly) never runs a security erase or a SCSI SANITIZE on them. Real drives that
claim a command and then fail it exist; to put the engine in front of one, a wrapper adds the
claim to the identify output (and only there). Every other call goes to the real tool, so the
commands reach the emulated drive, and the drive's own answers (aborted, DID_ERROR) and exit
codes are what the engine has to judge.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# `hdparm -I` text of a Security feature set that is supported, not enabled, not frozen.
ATA_SECURITY = (
    "Security: \n"
    "\t\tsupported\n"
    "\tnot\tenabled\n"
    "\tnot\tlocked\n"
    "\tnot\tfrozen\n"
    "\tnot\texpired: security count\n"
    "\t\tsupported: enhanced erase\n"
    "\t2min for SECURITY ERASE UNIT. 2min for ENHANCED SECURITY ERASE UNIT.\n"
)
# `sg_opcodes` listing of a disk with FORMAT UNIT and SANITIZE (overwrite service action).
SCSI_OPCODES = (
    "  LAB       LAB VSCSI DISK    2.5+\n"
    "  Peripheral device type: disk\n"
    "\n"
    "Opcode  Service    CDB   RWCDLP,  Name\n"
    "(hex)   action(h)  size  CDLP\n"
    "-----------------------------------------------\n"
    " 00                 6    0    0   Test Unit Ready\n"
    " 04                 6    0    0   Format Unit\n"
    " 48        1       10    0    0   Sanitize, overwrite\n"
)

HDPARM = """#!/bin/sh
# Lab claim: `hdparm -I` also reports an ATA Security feature set; all else is the real hdparm.
for a in "$@"; do
  if [ "$a" = "-I" ]; then
    {real} "$@"; rc=$?
    cat {claim}
    exit $rc
  fi
done
exec {real} "$@"
"""
SG_OPCODES = """#!/bin/sh
# Lab claim: the disk lists FORMAT UNIT and SANITIZE (overwrite); the real drive cannot list.
cat {claim}
"""


def install(directory: Path, guest_directory: str) -> str:
    """Write the wrappers to `directory` (a share); return their directory in the guest."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ata-security.txt").write_text(ATA_SECURITY)
    (directory / "scsi-opcodes.txt").write_text(SCSI_OPCODES)
    hdparm = shutil.which("hdparm") or "/usr/sbin/hdparm"
    scripts = {
        "hdparm": HDPARM.format(real=hdparm, claim=f"{guest_directory}/ata-security.txt"),
        "sg_opcodes": SG_OPCODES.format(claim=f"{guest_directory}/scsi-opcodes.txt"),
    }
    for name, text in scripts.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    return guest_directory
