"""Drives linked to assets by the pipeline: taken out (a tag) or processed in place (SMBIOS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from intake_lists import csv_bytes

from asset_pipeline.errors import AssetNotFound
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.flow import pipeline
from asset_pipeline.intake.dmi import MachineIdentity
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.storage import Device, assets, batches

MiB = 1 << 20
THIS_MACHINE = MachineIdentity(manufacturer="LENOVO", model="20QD0009MX", serial="PF1ABCDE",
                               uuid="4c4c4544-0042-3510-8048-b4c04f565331",
                               asset_tag="INV-0003")  # fmt: skip


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "inbyggd.img"
    path.touch()
    os.truncate(path, 8 * MiB)
    return path


def custody(station, batch_id, tag):
    with station.session() as session:
        asset = assets.find_asset(session, batches.find_batch(session, batch_id), tag)
        return asset, [(c.step, dict(c.detail)) for c in asset.custody]


def test_the_station_running_on_the_asset_processes_its_drive_in_place(
    station, batch_id, in_batch, image
):
    in_batch(import_manifest, "l.csv", csv_bytes())
    outcome = pipeline.process(station, str(image), batch_id, asset=THIS_MACHINE)
    assert (outcome.state, outcome.asset_tag) == ("certified", "INV-0003")
    asset, steps = custody(station, batch_id, "INV-0003")
    assert [s for s, _ in steps] == ["received", "drive_in_place", "drive_processed"]
    assert steps[0][1]["via"] == "dmi"
    assert steps[2][1]["certificate_id"] == outcome.certificate_id
    assert asset.identity["uuid"] == THIS_MACHINE.uuid
    with station.session() as session:
        device = session.get(Device, outcome.device_id)
        assert (device.asset_id, device.source_machine) == (
            asset.id, "Lenovo ThinkCentre M720, serial PF1ABCDE",
        )  # fmt: skip
    # The certificate names the asset (NIST SP 800-88 Rev. 2 media source), JSON and page.
    certificate = json.loads(Path(outcome.certificate_json).read_bytes())
    assert certificate["media_source"]["asset"] == {
        "asset_id": asset.id, "asset_tag": "INV-0003", "serial": "PF1ABCDE",
        "type": "Stationär", "make": "Lenovo", "model": "ThinkCentre M720",
    }  # fmt: skip
    page = " ".join(read_pdf(Path(outcome.certificate_pdf).read_bytes()).text.split())
    assert "tillgång: INV-0003 (Lenovo ThinkCentre M720)" in page
    assert "asset: INV-0003 (Lenovo ThinkCentre M720)" in page


def test_a_tag_on_no_list_records_nothing(station, batch_id, in_batch, image):
    in_batch(import_manifest, "l.csv", csv_bytes())
    with pytest.raises(AssetNotFound, match=r"no asset INV-404 in batch 1 \(receive it first"):
        pipeline.process(station, str(image), batch_id, asset="INV-404")
    with station.session() as session:
        assert session.query(Device).count() == 0
