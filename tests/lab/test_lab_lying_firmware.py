"""Lying firmware: drive commands that report success (or exit 0) and erase nothing.

Each case runs `asset-pipeline wipe --json` in the guest; the engine must notice, end FAILED
and never certify. QEMU's drives do not claim the ATA Security feature set or SCSI SANITIZE, so
for those two cases a wrapper adds the claim to the identify output (labkit/claims.py); the
commands themselves reach the emulated drive, which refuses them while the tools exit 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from labkit import SCRATCH_IN_GUEST, Lab, claims
from labkit.layout import PATTERN, MiB

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def liars(lab: Lab) -> str:
    """Guest directory of the claim wrappers (hdparm -I with Security, sg_opcodes)."""
    return claims.install(lab.scratch / "claims", f"{SCRATCH_IN_GUEST}/claims")


def failed_wipe(lab: Lab, disk_id: str, *args: str, path_prepend: str | None = None) -> dict:
    """Run the wipe CLI on a lab disk; it must exit 1 with the reason as its one error line."""
    result = lab.guest.cli(
        "wipe", lab.dev[disk_id], *args, "--yes", "--json", path_prepend=path_prepend
    )
    report: dict[str, Any] = json.loads(result.output)
    assert result.rc == 1, result.stderr
    assert report["outcome"] == "failed"
    assert result.stderr == f"Error: wipe failed: {report['reason']}\n"
    return report


def pattern_kept(image: Path) -> bool:
    """The first MiB still holds the bay's pattern, apart from at most one 64 KiB marker."""
    with image.open("rb") as f:
        head = f.read(MiB)
    return head.count(PATTERN) >= (MiB - 64 * 1024) // len(PATTERN)


def test_ata_security_erase_aborted_while_hdparm_exits_0(lab: Lab, liars: str) -> None:
    report = failed_wipe(
        lab, "sata0", "--level", "clear", "--method", "ata-secure-erase", path_prepend=liars
    )
    dev = lab.dev["sata0"]
    (step,) = report["steps"]
    assert step["outcome"] == "failed"
    # The temporary password is cleared again even though the drive refused to take it.
    assert step["commands"] == [
        f"hdparm --user-master u --security-set-pass *** {dev}",
        f"hdparm --user-master u --security-disable *** {dev}",
    ]
    assert report["reason"] == (
        f"hdparm --user-master u --security-set-pass *** {dev} failed (exit 0): SECURITY SET "
        "PASSWORD: the drive answered ABORTED COMMAND (sense key 0xb) although hdparm exited 0"
    )
    assert report["verification"]["outcome"] == "not run"
    assert pattern_kept(lab.images["sata0"])


def test_scsi_format_unit_reports_success_and_changes_nothing(lab: Lab) -> None:
    report = failed_wipe(lab, "scsi0", "--level", "clear", "--method", "scsi-format-unit")
    assert report["plan"]["category"] == "clear"  # FORMAT UNIT is never Purge
    (step,) = report["steps"]
    assert step["commands"] == [f"sg_format --format --quick --wait {lab.dev['scsi0']}"]
    assert step["outcome"] == "passed"  # sg_format exited 0 and said nothing was wrong
    ver = report["verification"]
    assert ver["method"] == "markers"
    assert ver["outcome"] == "failed"
    assert ver["notes"] == ["32 of 32 markers survived the erase"]
    assert len(ver["mismatches"]) == 32
    assert "still hold what was there before the erase" in report["reason"]
    assert pattern_kept(lab.images["scsi0"])


def test_sg_sanitize_exits_0_on_a_transport_error(lab: Lab, liars: str) -> None:
    # With SANITIZE claimed, Purge on this HDD plans the drive's own sanitize (no --method).
    report = failed_wipe(lab, "scsi0", "--level", "purge", path_prepend=liars)
    dev = lab.dev["scsi0"]
    assert (report["plan"]["method"], report["plan"]["category"]) == (
        "scsi-sanitize-overwrite",
        "purge",
    )
    assert report["steps"][0]["outcome"] == "failed"
    assert report["reason"] == (
        f"sg_sanitize --quick --early --overwrite --zero {dev} failed (exit 0): "
        "Sanitize: transport: Host_status=0x07 [DID_ERROR]"
    )
    assert report["verification"]["outcome"] == "not run"
    assert pattern_kept(lab.images["scsi0"])
