"""Drive health from smartctl and nvme-cli JSON recorded in the QEMU lab (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wipe import check_health
from wipe.health import critical_warning_reasons, parse_nvme_smart_log, parse_smartctl

DATA = Path(__file__).resolve().parents[1] / "data"


def smartctl(name: str) -> str:
    return (DATA / "smartctl" / name).read_text()


def test_failing_nvme_drive_from_smartctl() -> None:
    # QEMU nvme,smart_critical_warning=4: smartctl exits 8 and says FAILED.
    health = parse_smartctl("/dev/nvme2n1", smartctl("health-nvme-failing.json"))
    assert health.status == "failed"
    assert health.failing
    assert health.reasons == (
        "SMART overall-health self-assessment FAILED",
        "NVMe critical warning 0x04: NVM subsystem reliability degraded",
    )
    assert health.facts == {"smartctl_exit_status": 8, "critical_warning": 4, "smart_passed": False}
    assert health.source == "smartctl -H -A"


@pytest.mark.parametrize("name", ["health-nvme.json", "health-sata.json", "health-scsi.json"])
def test_healthy_drives_pass(name: str) -> None:
    health = parse_smartctl("/dev/x", smartctl(name))
    assert (health.status, health.reasons) == ("passed", ())
    assert not health.failing


def test_sata_prefailure_attribute_failing_now() -> None:
    data = json.loads(smartctl("health-sata.json"))
    table = data["ata_smart_attributes"]["table"]
    realloc = next(a for a in table if a["name"] == "Reallocated_Sector_Ct")
    realloc["when_failed"] = "now"  # the recorded document with one attribute at threshold
    health = parse_smartctl("/dev/sda", json.dumps(data))
    assert health.status == "failed"
    assert health.reasons == ("SMART attribute 5 Reallocated_Sector_Ct at or below its threshold",)


def test_attribute_that_failed_in_the_past_is_not_a_verdict() -> None:
    data = json.loads(smartctl("health-sata.json"))
    data["ata_smart_attributes"]["table"][0]["when_failed"] = "past"
    assert parse_smartctl("/dev/sda", json.dumps(data)).status == "passed"


def test_failing_exit_status_without_details_still_fails() -> None:
    data = json.loads(smartctl("health-scsi.json"))
    data["smartctl"]["exit_status"] = 8
    health = parse_smartctl("/dev/sdb", json.dumps(data))
    assert health.reasons == ("smartctl reports a failing disk (exit status 0x08)",)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("health-usb.json", "/dev/sdc: Unknown USB bridge [0x46f4:0x0001 (0x000)]"),
        ("health-usb-sat.json", "smartctl could not open the device or identify it"),
    ],
)
def test_usb_disk_without_smart_is_unknown(name: str, reason: str) -> None:
    health = parse_smartctl("/dev/sdc", smartctl(name))
    assert health.status == "unknown"
    assert not health.failing  # unknown does not block a wipe; verification decides
    assert health.reasons == (reason,)


def test_nvme_smart_log() -> None:
    failing = parse_nvme_smart_log(
        "/dev/nvme2n1", (DATA / "nvme" / "smart-log-failing-ns.json").read_text()
    )
    assert failing.status == "failed"
    assert failing.reasons == ("NVMe critical warning 0x04: NVM subsystem reliability degraded",)
    healthy = parse_nvme_smart_log("/dev/nvme0", (DATA / "nvme" / "smart-log.json").read_text())
    assert (healthy.status, healthy.facts["critical_warning"]) == ("passed", 0)
    assert parse_nvme_smart_log("/dev/nvme0", "{}").status == "unknown"


def test_critical_warning_bits() -> None:
    assert critical_warning_reasons(0) == []
    assert critical_warning_reasons(0x09) == [
        "NVMe critical warning 0x09: available spare below threshold, "
        "media placed in read-only mode"
    ]
    assert critical_warning_reasons(0x40) == [
        "NVMe critical warning 0x40: reserved critical warning bits 0x40"
    ]


def test_no_smart_on_loop_devices_and_images(make_loop) -> None:
    assert check_health("/tmp/x.img", "image").status == "unknown"
    loop = make_loop(4 * 1024 * 1024)
    health = check_health(str(loop), "loop")
    assert (health.status, health.reasons) == ("unknown", ("no SMART on a loop device",))


def test_smartctl_on_a_device_without_smart_is_unknown(make_loop) -> None:
    # The real smartctl, asked about a loop device as if it were a disk: it cannot tell.
    loop = make_loop(4 * 1024 * 1024)
    health = check_health(str(loop), "sata")
    assert health.status == "unknown"
    assert health.reasons
