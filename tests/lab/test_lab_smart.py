"""SMART: a drive that reports it is failing gets a destroy verdict and is never written.

nvme2 is QEMU's NVMe with `smart_critical_warning=4` (labkit/layout.py): its SMART / Health log
has Critical Warning bit 2 set (NVM subsystem reliability degraded), so smartctl's overall
health reads FAILED.
"""

from __future__ import annotations

import json

import pytest
from labkit import Lab
from labkit.layout import PATTERN, MiB

pytestmark = pytest.mark.lab


def test_nvme2_reports_a_critical_warning(lab: Lab) -> None:
    ctrl = lab.dev["nvme2"].rsplit("n", 1)[0]
    log = json.loads(lab.guest.run(f"nvme smart-log -o json {ctrl}").check().output)
    assert log["critical_warning"] == 4


def test_failing_drive_gets_a_destroy_verdict(lab: Lab) -> None:
    result = lab.guest.cli("wipe", lab.dev["nvme2"], "--level", "clear", "--yes", "--json")
    report = json.loads(result.output)
    assert result.rc == 1, result.stderr
    assert report["health"]["status"] == "failed"
    assert report["health"]["reasons"] == [
        "SMART overall-health self-assessment FAILED",
        "NVMe critical warning 0x04: NVM subsystem reliability degraded",
    ]
    plan = report["plan"]
    assert (plan["method"], plan["category"]) == ("destroy", "destroy")
    assert plan["reason"].startswith("the drive reports it is failing (SMART overall-health")
    assert "no certificate is possible; destroy the device" in plan["reason"]
    assert (report["steps"], report["bytes_written"]) == ([], 0)
    assert report["outcome"] == "failed"
    assert result.stderr == f"Error: wipe failed: {report['reason']}\n"
    with lab.images["nvme2"].open("rb") as f:
        assert f.read(MiB) == PATTERN * (MiB // len(PATTERN))  # not one byte written
