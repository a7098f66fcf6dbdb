"""The pipeline's scan step: summaries (never values) stored per device, keyed per batch."""

from __future__ import annotations

import json
import shutil

import pytest
from evidence_fixtures import register_device
from sqlalchemy import select

from asset_pipeline.drives import discovery
from asset_pipeline.errors import PipelineError
from asset_pipeline.flow import device_scan
from asset_pipeline.station.context import Station
from asset_pipeline.storage import ScanSummary, batches
from tests.scanners.disks import corpus_dir, ext4_gpt, key  # noqa: F401 - shared fixtures
from tests.scanners.documents import personnummer


@pytest.fixture
def station(station_home) -> Station:
    st = Station(data_dir=station_home)
    yield st
    st.close()


def make_batch(session):
    customer = batches.add_customer(session, "Kommun AB")
    agreement = batches.add_agreement(
        session,
        customer=customer,
        reference="DPA-1",
        required_level="clear",
        discovery_instructed=True,
        retention_years=7,
    )
    return batches.open_batch(session, agreement)


def test_scan_device_stores_a_summary_without_values(station, ext4_gpt, tmp_path) -> None:  # noqa: F811
    second = tmp_path / "second.img"
    shutil.copyfile(ext4_gpt.path, second)
    with station.session() as session:
        batch = make_batch(session)
        assert batch.finding_key is not None
        assert len(batch.finding_key) == 32
        first = register_device(session, batch, discovery.identify(ext4_gpt.path))
        other = register_device(session, batch, discovery.identify(second))
        row1 = device_scan.scan_device(session, first, "pre")
        row2 = device_scan.scan_device(session, other, "pre")
        ids = (row1.id, row2.id)
    with station.session() as session:
        rows = session.scalars(select(ScanSummary).where(ScanSummary.id.in_(ids))).all()
        assert [r.phase for r in rows] == ["pre", "pre"]
        stored = json.dumps([r.report for r in rows])
        assert rows[0].total_findings == sum(
            v["count"] for v in rows[0].report["findings"].values()
        )
        assert rows[0].total_findings > 0
        # Same batch key: the same values on two devices give the same distinct counts.
        assert rows[0].report["findings"] == rows[1].report["findings"]
    assert personnummer(1) not in stored
    assert "testsson" not in stored


def test_batches_have_different_keys(station) -> None:
    with station.session() as session:
        a = make_batch(session)
        b = batches.open_batch(session, a.agreement)
        assert a.finding_key != b.finding_key


def test_old_batch_gets_a_key_on_first_scan(station) -> None:
    with station.session() as session:
        batch = make_batch(session)
        batch.finding_key = None
        key_ = device_scan.batch_key(batch)
        assert len(key_) == 32
        assert device_scan.batch_key(batch) == key_


def test_bad_phase_and_batchless_device_are_refused(station, ext4_gpt) -> None:  # noqa: F811
    with station.session() as session:
        batch = make_batch(session)
        device = register_device(session, batch, discovery.identify(ext4_gpt.path))
        with pytest.raises(PipelineError, match="unknown scan phase 'during'"):
            device_scan.scan_device(session, device, "during")
        device.batch = None
        with pytest.raises(PipelineError, match="is in no batch"):
            device_scan.scan_device(session, device, "post")


def test_post_scan_of_a_pattern_wiped_device_is_clean(station, tmp_path) -> None:
    from wipe.pattern import Pattern

    pattern = Pattern.random()
    filler = pattern.filler(8 << 20)
    image = tmp_path / "wiped.img"
    image.write_bytes(filler.expected(0, 16 << 20))
    with station.session() as session:
        batch = make_batch(session)
        device = register_device(session, batch, discovery.identify(image))
        row = device_scan.scan_device(session, device, "post", expected=filler.expected)
        assert row.total_findings == 0
        assert row.report["not_scannable"] == []
        blind = device_scan.scan_device(session, device, "post")  # random bytes, no expectation
        assert blind.report["not_scannable"] != []
