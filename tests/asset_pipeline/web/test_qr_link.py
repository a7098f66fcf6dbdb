"""With `verify_url` configured, a certificate's QR code is the verification page's link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from evidence_fixtures import PRE_FINDINGS, drive, register_device, scan_report, wipe_result
from starlette.testclient import TestClient

from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.station.config import StationConfig, load_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches, open_existing_database, operators
from asset_pipeline.web import create_app

URL = "https://verifiera.refurb.example"


def test_the_qr_code_opens_the_page_that_verifies_it(tmp_path: Path) -> None:
    station = Station(data_dir=tmp_path / "st")
    station.initialize(StationConfig(station_id="bench-1", organization="Refurb AB",
                                     operator="anna", verify_url=URL))  # fmt: skip
    assert load_config(station.data_dir).verify_url == URL
    with station.session() as session:
        operators.add_operator(session, "anna", title="Tekniker", contact="anna@refurb.example")
        customer = batches.add_customer(session, "Kund")
        agreement = batches.add_agreement(session, customer=customer, reference="DPA-1",
                                          required_level="clear", discovery_instructed=True,
                                          retention_years=7)  # fmt: skip
        device = register_device(session, batches.open_batch(session, agreement), drive())
        issued = issuing.issue_sanitization_certificate(
            session, station, device, wipe_result=wipe_result(),
            pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report(),
        )  # fmt: skip
    pdf = issued.pdf_path.read_bytes()
    assert read_pdf(pdf).qr_texts == (f"{URL}/c/{issued.cert_id}?h={issued.sha256}",)
    report = verify_bytes(pdf, station.key.public_key)
    assert report.ok, report.checks  # `cert verify` reads the link form of the QR code
    link = urlsplit(read_pdf(pdf).qr_texts[0])
    sessions = open_existing_database(station.database_url)
    with TestClient(create_app(sessions)) as client:
        page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200
    assert "Giltigt" in page.text
    assert "Ej giltigt" not in page.text
    sessions.kw["bind"].dispose()
    station.close()


def test_init_takes_and_keeps_the_verify_url(run_cli, station_home: Path) -> None:
    import json

    bad = run_cli("init", "--verify-url", "javascript:alert(1)")
    assert bad.exit_code == 2
    assert "Invalid value for --verify-url" in bad.stderr
    made = json.loads(run_cli("init", "--verify-url", URL + "/", "--json").stdout)
    assert made["verify_url"] == URL
    moved = json.loads(run_cli("init", "--verify-url", URL + "/ny", "--json").stdout)
    assert (moved["status"], moved["verify_url"]) == ("updated", URL + "/ny")
    assert moved["station_id"] == made["station_id"]
    again = json.loads(run_cli("init", "--json").stdout)
    assert (again["status"], again["verify_url"]) == ("exists", URL + "/ny")
