"""The station running on the asset itself: its identity read from SMBIOS in the guest.

The guest's firmware is given a system (type 1) and chassis (type 3) identity on QEMU's command
line (`labkit.machine.SMBIOS`). A station prepared on the host, with the customer's list naming
that machine by its asset tag, is copied into the guest, where one CLI call receives the machine
from /sys/class/dmi/id (one call: a CLI start costs 5-10 s under TCG). The station comes back
over the scratch share and is read on the host.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from intake_lists import csv_bytes, open_batch
from labkit import SCRATCH_IN_GUEST, Lab
from labkit.machine import SMBIOS
from sqlalchemy import select

from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Asset, batches

pytestmark = pytest.mark.lab

HOME = "/tmp/station-intake"  # the station's data directory, on the guest's tmpfs


@pytest.fixture(scope="module")
def received(lab: Lab) -> tuple[dict, Path, float]:
    """(the receipt's JSON line, the station copied back to the host, the CLI's seconds)."""
    prepared = lab.scratch / "station-intake"
    station = Station(data_dir=prepared)
    station.initialize(new_config("Labbet AB", "lab-tekniker"))
    batch_id = open_batch(station)
    header = ["Inventarienummer", "Serienummer", "Typ", "Kostnadsställe"]
    rows = [["INV-LAB-0001", "OTHER-1", "Laptop", "4410"],
            [SMBIOS["asset_tag"], "", "Laptop", "4420"]]  # fmt: skip
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        import_manifest(session, station, batch, "lista.csv", csv_bytes(header, rows))
    station.close()
    lab.guest.run(f"rm -rf {HOME} && cp -a {SCRATCH_IN_GUEST}/station-intake {HOME}").check()
    result = lab.guest.cli("intake", "receive", str(batch_id), "--dmi", "--json", home=HOME)
    result.check()
    back = lab.scratch / "station-back"
    shutil.rmtree(back, ignore_errors=True)
    lab.guest.run(f"cp -a {HOME} {SCRATCH_IN_GUEST}/station-back").check()
    return json.loads(result.output.splitlines()[-1]), back, result.seconds


def test_the_machine_is_received_by_its_smbios_asset_tag(received) -> None:
    receipt, _, seconds = received
    assert (receipt["status"], receipt["asset_tag"], receipt["expected"]) == (
        "received", SMBIOS["asset_tag"], True,
    )  # fmt: skip
    # The list left serial, make and model empty: the firmware filled them in.
    assert (receipt["serial"], receipt["make"], receipt["model"]) == (
        SMBIOS["serial"], SMBIOS["manufacturer"], SMBIOS["product"],
    )  # fmt: skip
    print(f"intake receive --dmi in the guest: {seconds:.1f} s")


def test_the_whole_smbios_identity_is_kept_with_the_asset(received) -> None:
    _, back, _ = received
    station = Station(data_dir=back)
    with station.session() as session:
        asset = session.scalar(select(Asset).where(Asset.asset_tag == SMBIOS["asset_tag"]))
        identity = dict(asset.identity)
        steps = [(c.step, c.detail["via"]) for c in asset.custody]
    station.close()
    assert identity == {
        "manufacturer": SMBIOS["manufacturer"],
        "model": SMBIOS["product"],
        "version": SMBIOS["version"],
        "serial": SMBIOS["serial"],
        "uuid": SMBIOS["uuid"],
        "asset_tag": SMBIOS["asset_tag"],
        "chassis_serial": SMBIOS["chassis_serial"],
        "chassis_type": "1",  # QEMU's default chassis type: "Other"
        "withheld": [],
    }
    assert steps == [("received", "dmi")]
