"""Raw capability facts of the emulated drives, as the standard tools report them in the guest.

These are what the wipe engine's capability detection must conclude from: NVMe Format yes and
Sanitize no, SATA without the Security feature set, SCSI without SANITIZE.
"""

from __future__ import annotations

import json

import pytest
from labkit import Lab
from labkit.layout import PATTERN

pytestmark = pytest.mark.lab

OACS_FORMAT_NVM = 1 << 1


def controller(dev: str) -> str:
    return dev.rsplit("n", 1)[0]  # /dev/nvme0n1 -> /dev/nvme0


def test_nvme_offers_format_but_not_sanitize(lab: Lab) -> None:
    ctrl = controller(lab.dev["nvme1"])
    ident = json.loads(lab.guest.run(f"nvme id-ctrl -o json {ctrl}").check().output)
    assert ident["oacs"] & OACS_FORMAT_NVM
    assert ident["sanicap"] == 0
    log = lab.guest.run(f"nvme sanitize-log -o json {ctrl}")
    assert log.rc == 1
    assert "Invalid Field in Command" in log.output


def test_sata_has_no_security_feature_set(lab: Lab) -> None:
    dev = lab.dev["sata0"]
    identify = lab.guest.run(f"hdparm -I {dev}").check().output
    assert "Serial Number:      LABSATA0001" in identify
    assert "Security:" not in identify
    status = lab.guest.run(f"hdparm --sanitize-status {dev}")
    assert status.rc == 22
    assert "SANITIZE feature set is not supported" in status.output


def test_scsi_has_no_sanitize(lab: Lab) -> None:
    dev = lab.dev["scsi0"]
    result = lab.guest.run(f"sg_sanitize --quick --block --wait {dev}")
    assert result.rc == 9
    assert "Invalid opcode" in result.output
    with lab.images["scsi0"].open("rb") as image:
        assert image.read(len(PATTERN)) == PATTERN  # nothing was erased
