"""The write guard against real device-mapper stacks (the host kernel here has no dm).

One snippet (one Python start in the guest, which costs more than the checks) builds both
stacks on the virtio-scsi drive, one after the other, and records the guard's verdicts:

- device-mapper holding the whole disk (the disk is refused, then writable again);
- device-mapper over a loop device over a partition that is mounted: the attack of issue 13
  that passed the old guard and destroyed the mounted file system ("Structure needs
  cleaning"). The drive's first 10 MiB are put back afterwards, so the lab tests after this
  one find it unchanged.

The snippet puts this checkout first on sys.path (a snippet's own directory comes first
otherwise, and the venv's editable install may point at another checkout).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from labkit import Lab

pytestmark = pytest.mark.lab

SNIPPET = """
import json, os, subprocess, sys, time
sys.path.insert(0, {project!r})
from wipe import GuardRefusal, check_writable

def run(*cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, check=True, capture_output=True,
                          text=True).stdout.strip()

def reread(disk):
    # BLKRRPART fails (busy) while udev still probes the disk after a write: try again.
    for _ in range(40):
        if subprocess.run(["blockdev", "--rereadpt", disk], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)
    run("blockdev", "--rereadpt", disk)

def verdict(path):
    try:
        check_writable(path)
    except GuardRefusal as e:
        return e.reason
    return None

disk, mnt = {dev!r}, "/tmp/lab-guard-mnt"
SAVED = 10 << 20  # the partition table, and an 8 MiB partition at 1 MiB
out = {{"disk": disk, "mnt": mnt}}
start = time.monotonic()
run("modprobe", "loop")
run("modprobe", "dm_mod")

# 1. device-mapper holding the whole disk
sectors = run("blockdev", "--getsz", disk)
held = out["held"] = {{"before": verdict(disk)}}
run("dmsetup", "create", "labdm", "--table", f"0 {{sectors}} linear {{disk}} 0")
try:
    held["holders"] = os.listdir("/sys/class/block/" + disk[5:] + "/holders")
    held["with_dm"] = verdict(disk)
finally:
    run("dmsetup", "remove", "labdm")
held["after"] = verdict(disk)
out["held_s"] = time.monotonic() - start

# 2. device-mapper over a loop device over a mounted partition
start = time.monotonic()
with open(disk, "rb") as f:
    saved = f.read(SAVED)
loop = None
dm_made = mounted = False
try:
    run("sfdisk", "-q", "--no-reread", disk, stdin="label: dos\\n,8M,L\\n")
    reread(disk)
    part = out["part"] = disk + "1"
    for _ in range(100):
        if os.path.exists(part):
            break
        time.sleep(0.05)
    run("mkfs.ext4", "-q", "-F", part)
    os.makedirs(mnt, exist_ok=True)
    run("mount", part, mnt)
    mounted = True
    loop = out["loop"] = run("losetup", "-f", "--show", part)
    sectors = run("blockdev", "--getsz", loop)
    run("dmsetup", "create", "labstack", "--table", f"0 {{sectors}} linear {{loop}} 0")
    dm_made = True
    dm = out["dm"] = "/dev/" + os.path.basename(os.path.realpath("/dev/mapper/labstack"))
    out["setup_s"] = time.monotonic() - start
    began = time.monotonic()
    out["verdicts"] = {{p: verdict(p) for p in (dm, loop, part, disk)}}
    out["guard_s"] = (time.monotonic() - began) / 4
finally:
    if dm_made:
        run("dmsetup", "remove", "labstack")
    if loop:
        run("losetup", "-d", loop)
    if mounted:
        run("umount", mnt)
    with open(disk, "r+b") as f:
        f.write(saved)
        os.fsync(f.fileno())
    reread(disk)
    subprocess.run(["udevadm", "settle", "--timeout=30"], check=False,
                   env={{**os.environ, "SYSTEMD_IGNORE_CHROOT": "1"}})
out["after"] = verdict(disk)
out["stack_s"] = time.monotonic() - start
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def guarded(lab: Lab) -> dict[str, Any]:
    """Build both stacks in the guest; the guard's verdicts and the timings."""
    dev = lab.dev["scsi0"]
    try:
        result = lab.guest.python_code(SNIPPET.format(dev=dev, project=str(lab.guest.project)))
        result.check()
    finally:
        lab.guest.run(
            "dmsetup remove labdm 2>/dev/null; dmsetup remove labstack 2>/dev/null;"
            " umount /tmp/lab-guard-mnt 2>/dev/null; true"
        )
    out = json.loads(result.output.strip().splitlines()[-1])
    print(f"guard in the lab ({result.seconds:.1f} s in the guest): {out}")
    return out


def test_guard_refuses_a_disk_held_by_device_mapper(guarded: dict[str, Any]) -> None:
    held = guarded["held"]
    assert held["before"] is None
    assert len(held["holders"]) == 1
    assert held["holders"][0].startswith("dm-")
    assert held["with_dm"] == f"in use by {held['holders'][0]} (holders)"
    assert held["after"] is None


def test_guard_refuses_device_mapper_over_a_loop_over_a_mounted_partition(
    guarded: dict[str, Any],
) -> None:
    dm, loop, part, mnt = guarded["dm"], guarded["loop"], guarded["part"], guarded["mnt"]
    verdicts = guarded["verdicts"]
    assert verdicts[dm] == f"{part} (backing device of {loop}) is mounted at {mnt}"
    assert verdicts[loop] == (
        f"in use by {dm[5:]} (holders); {part} (backing device of {loop}) is mounted at {mnt}"
    )
    assert verdicts[part].startswith(f"mounted at {mnt}; is a partition of ")
    assert verdicts[guarded["disk"]].startswith(f"mounted at {mnt}")
    assert guarded["after"] is None  # the drive is as it was for the lab tests after this one
