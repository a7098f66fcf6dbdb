"""The write guard against a real device-mapper holder (the host kernel here has no dm)."""

from __future__ import annotations

import json

import pytest
from labkit import Lab

pytestmark = pytest.mark.lab

SNIPPET = """
import json, subprocess
from wipe import GuardRefusal, check_writable

def verdict(path):
    try:
        check_writable(path)
    except GuardRefusal as e:
        return {{"refused": True, "reason": e.reason}}
    return {{"refused": False}}

dev = {dev!r}
sectors = subprocess.run(["blockdev", "--getsz", dev], check=True, capture_output=True,
                         text=True).stdout.strip()
out = {{"before": verdict(dev)}}
subprocess.run(["dmsetup", "create", "labdm", "--table", f"0 {{sectors}} linear {{dev}} 0"],
               check=True)
try:
    out["holders"] = subprocess.run(["ls", "/sys/class/block/" + dev[5:] + "/holders"],
                                    check=True, capture_output=True, text=True).stdout.split()
    out["with_dm"] = verdict(dev)
finally:
    subprocess.run(["dmsetup", "remove", "labdm"], check=True)
out["after"] = verdict(dev)
print(json.dumps(out))
"""


def test_guard_refuses_a_disk_held_by_device_mapper(lab: Lab) -> None:
    dev = lab.dev["scsi0"]
    try:
        result = lab.guest.python_code(SNIPPET.format(dev=dev)).check()
    finally:
        lab.guest.run("dmsetup remove labdm 2>/dev/null; true")
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["before"] == {"refused": False}
    holder = out["holders"]
    assert len(holder) == 1
    assert holder[0].startswith("dm-")
    assert out["with_dm"]["refused"] is True
    assert out["with_dm"]["reason"] == f"in use by {holder[0]} (holders)"
    assert out["after"] == {"refused": False}
