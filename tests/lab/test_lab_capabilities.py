"""Capability detection on the emulated drives: NVMe Format yes and Sanitize no, SATA without
the Security feature set, SCSI without SANITIZE. First the raw facts as the standard tools
report them in the guest, then the wipe engine's conclusion from them.
"""

from __future__ import annotations

import json

import pytest
from labkit import SCRATCH_IN_GUEST, Lab
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


ENGINE = """
import json, sys
from asset_pipeline.drives import discovery
from wipe import choose, sanitizer_for

out = {}
for path in sys.argv[1:]:
    drive = discovery.identify(path)
    sanitizer = sanitizer_for(drive.path, drive.transport)
    caps = sanitizer.capabilities() if sanitizer else None
    out[path] = {
        "caps": caps.to_dict() if caps else None,
        "purge": choose("purge", drive.media_type, caps).method,
    }
print(json.dumps(out))
"""


def test_wipe_engine_offers_the_right_methods(lab: Lab) -> None:
    ids = ("nvme1", "sata0", "scsi0", "usb0")
    (lab.scratch / "engine_caps.py").write_text(ENGINE)
    result = lab.guest.run(
        f"cd {lab.guest.project} && {lab.guest.python} {SCRATCH_IN_GUEST}/engine_caps.py "
        + " ".join(lab.dev[i] for i in ids)
    ).check()
    found = {i: json.loads(result.output.splitlines()[-1])[lab.dev[i]] for i in ids}
    print(json.dumps(found, indent=1))
    caps = {i: found[i]["caps"] for i in ids}
    assert caps["nvme1"]["family"] == "nvme"
    assert caps["nvme1"]["offered"] == ["nvme-format-ses1"]
    assert {b["method"] for b in caps["nvme1"]["blocked"]} == {"nvme-format-ses2"}
    # One active namespace; id-ctrl's NN (256) is only how many the controller could hold.
    assert caps["nvme1"]["facts"]["namespaces"] == [1]
    assert caps["nvme1"]["facts"]["max_namespaces"] == 256
    assert caps["sata0"]["family"] == "ata"
    assert caps["sata0"]["offered"] == []
    assert caps["scsi0"]["family"] == "scsi"
    assert caps["scsi0"]["offered"] == ["scsi-format-unit"]  # offered, but only as Clear
    assert caps["usb0"] is None
    # Purge: only the NVMe drive has a method that is Purge on its media.
    purge = {i: found[i]["purge"] for i in ids}
    assert purge == {
        "nvme1": "nvme-format-ses1", "sata0": "destroy", "scsi0": "destroy", "usb0": "destroy",
    }  # fmt: skip


def test_scsi_disk_at_purge_ends_destroy_through_the_cli(lab: Lab) -> None:
    result = lab.guest.cli("wipe", lab.dev["scsi0"], "--level", "purge", "--yes", "--json")
    report = json.loads(result.output)
    assert result.rc == 1, result.stderr
    plan = report["plan"]
    assert (plan["method"], plan["category"], plan["alternatives"]) == ("destroy", "destroy", [])
    assert "offered: scsi-format-unit" in plan["reason"]
    assert "scsi-sanitize-overwrite blocked: the drive cannot list its opcodes" in plan["reason"]
    assert (report["steps"], report["bytes_written"], report["outcome"]) == ([], 0, "failed")
