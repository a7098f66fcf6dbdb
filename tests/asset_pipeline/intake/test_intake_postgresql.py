"""The intake on PostgreSQL (the fleet's shared database): the same answers as on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

from intake_lists import csv_bytes

from asset_pipeline.evidence.return_report import return_report_document
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import receive
from asset_pipeline.intake.reconcile import reconcile
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches


def test_import_receive_reconcile_and_report_on_postgresql(postgres_url: str, tmp_path: Path):
    station = Station(data_dir=tmp_path / "st", db_url=postgres_url)
    station.initialize(new_config("Återbruk Norrland AB", "Örjan Ekström"))
    suffix = os.getpid()
    try:
        with station.session() as session:
            customer = batches.add_customer(session, f"Åre kommun {suffix}")
            agreement = batches.add_agreement(
                session, customer=customer, reference=f"PUB-PG-{suffix}", required_level="clear",
                discovery_instructed=False, retention_years=7,
            )  # fmt: skip
            batch = batches.open_batch(session, agreement)
            import_manifest(session, station, batch, "l.csv", csv_bytes())
            again = import_manifest(session, station, batch, "l.csv", csv_bytes())
            assert (again.created, again.unchanged) == (0, 3)
            assert receive(session, station, batch, "c02xk0abjgh5").asset_tag == "INV-0002"
            assert receive(session, station, batch, "OKÄND-1").status == "unexpected"
            assert receive(session, station, batch, "okänd-1").status == "already_received"
            counts = reconcile(session, batch).counts
            assert (counts["received"], counts["missing"], counts["unexpected"]) == (2, 2, 1)
            doc = return_report_document(session, station, batch)
            assert [a["asset_tag"] for a in doc["assets"]] == [
                "INV-0001", "INV-0002", "INV-0003", "OKÄND-1",
            ]  # fmt: skip
            assert doc["assets"][0]["customer_fields"] == [
                ["Kostnadsställe", "4410"], ["Placering", "Hus B, plan 3"],
            ]  # fmt: skip
    finally:
        station.close()
