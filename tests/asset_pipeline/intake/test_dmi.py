"""SMBIOS/DMI identity from a sysfs-shaped directory (the real one is read in the QEMU lab)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from intake_lists import csv_bytes

from asset_pipeline.errors import IntakeError
from asset_pipeline.intake.dmi import read_identity
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import receive_machine

# What a Lenovo ThinkPad's firmware publishes (values as the kernel prints them, with newline).
THINKPAD = {
    "sys_vendor": "LENOVO\n",
    "product_name": "20QD0009MX\n",
    "product_version": "ThinkPad X1 Carbon 7th\n",
    "product_serial": "PF1ABCDE\n",
    "product_uuid": "4C4C4544-0042-3510-8048-B4C04F565331\n",
    "chassis_asset_tag": "INV-0003\n",
    "chassis_serial": "PF1ABCDE\n",
    "chassis_type": "10\n",
}


def dmi_dir(tmp_path: Path, values: dict[str, str]) -> Path:
    root = tmp_path / "dmi" / "id"
    root.mkdir(parents=True)
    for name, value in values.items():
        (root / name).write_text(value)
    return root


def test_the_identity_is_read_and_normalised(tmp_path):
    identity = read_identity(dmi_dir(tmp_path, THINKPAD))
    assert identity.to_dict() == {
        "manufacturer": "LENOVO",
        "model": "20QD0009MX",
        "version": "ThinkPad X1 Carbon 7th",
        "serial": "PF1ABCDE",
        "uuid": "4c4c4544-0042-3510-8048-b4c04f565331",
        "asset_tag": "INV-0003",
        "chassis_serial": "PF1ABCDE",
        "chassis_type": "10",
        "withheld": [],
    }
    assert identity.codes == ("INV-0003", "PF1ABCDE", "PF1ABCDE")


def test_vendor_placeholders_read_as_empty(tmp_path):
    values = {**THINKPAD, "chassis_asset_tag": "No Asset Tag\n",
              "product_serial": "To Be Filled By O.E.M.\n", "chassis_serial": "Default string\n",
              "product_uuid": "03000200-0400-0500-0006-000700080009\n"}  # fmt: skip
    identity = read_identity(dmi_dir(tmp_path, values))
    assert (identity.asset_tag, identity.serial, identity.chassis_serial, identity.uuid) == (
        "", "", "", "",
    )  # fmt: skip
    assert identity.codes == ()


def test_an_asset_tag_that_is_personal_data_is_withheld(tmp_path):
    values = {**THINKPAD, "chassis_asset_tag": "anna.svensson@example.se\n"}
    identity = read_identity(dmi_dir(tmp_path, values))
    assert identity.asset_tag == ""
    assert identity.withheld == ("asset_tag",)
    assert "anna" not in repr(identity)


def test_no_dmi_is_one_clear_error(tmp_path):
    with pytest.raises(IntakeError, match=r"no SMBIOS/DMI information at .*: is this the asset"):
        read_identity(tmp_path / "absent")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 0400 anyway")
def test_serials_unreadable_without_root(tmp_path):
    root = dmi_dir(tmp_path, THINKPAD)
    (root / "product_serial").chmod(0o000)
    with pytest.raises(IntakeError, match="the serials need root"):
        read_identity(root)


def test_the_machine_is_received_by_its_asset_tag_with_its_identity(tmp_path, in_batch):
    in_batch(import_manifest, "l.csv", csv_bytes())
    receipt = in_batch(receive_machine, read_identity(dmi_dir(tmp_path, THINKPAD)))
    assert (receipt.status, receipt.asset_tag, receipt.serial) == (
        "received",
        "INV-0003",
        "PF1ABCDE",
    )


def test_a_machine_not_on_the_list_is_unexpected_under_its_serial(tmp_path, in_batch):
    in_batch(import_manifest, "l.csv", csv_bytes())
    values = {**THINKPAD, "chassis_asset_tag": "\n", "product_serial": "R90XYZ12\n",
              "chassis_serial": "R90XYZ12\n"}  # fmt: skip
    receipt = in_batch(receive_machine, read_identity(dmi_dir(tmp_path, values)))
    assert (receipt.status, receipt.asset_tag, receipt.serial, receipt.make) == (
        "unexpected", "", "R90XYZ12", "LENOVO",
    )  # fmt: skip
