"""The verification page over HTTP (Starlette's test client): verdicts, limits, tokens, errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from starlette.testclient import TestClient

from asset_pipeline.evidence.signing import read_document
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import RegisteredKey, open_existing_database, stations, utcnow
from asset_pipeline.web import create_app
from asset_pipeline.web.app import MAX_UPLOAD
from tests.asset_pipeline.web.conftest import Evidence, tamper_json


@pytest.fixture
def client(evidence: Evidence) -> Iterator[TestClient]:
    sessions = open_existing_database(evidence.station.database_url)
    station = evidence.station
    app = create_app(sessions, organization="Återbruk Norrland AB",
                     pdf_dirs=(station.reports_dir, station.certificates_dir))  # fmt: skip
    with TestClient(app) as client:
        yield client
    sessions.kw["bind"].dispose()


def upload(client: TestClient, data: bytes, name: str, content_type: str):
    return client.post("/verify", files={"file": (name, data, content_type)})


def _json(evidence: Evidence) -> bytes:
    return evidence.certificate.json_path.read_bytes()


def test_the_qr_link_shows_a_valid_certificate_with_its_station_and_log(
    client: TestClient, evidence: Evidence
) -> None:
    page = client.get(evidence.link)
    assert page.status_code == 200
    body = page.text
    assert "Giltigt" in body
    assert "Ej giltigt" not in body
    assert evidence.station.config.station_id in body
    assert evidence.station.key.fingerprint in body
    assert 'id="in-log">Ja' in body
    assert "WD-WCC6Y" in body  # the certificate's fields: the serial
    assert "Åre kommun" in body
    for check in ("key", "signature", "audit", "stored"):
        assert f'<tr class="ok" data-check="{check}">' in body


def test_unknown_id_and_wrong_hash_get_the_same_answer(
    client: TestClient, evidence: Evidence
) -> None:
    cert = evidence.certificate
    wrong_hash = client.get(f"/c/{cert.cert_id}?h={'0' * 64}")
    no_hash = client.get(f"/c/{cert.cert_id}")
    unknown = client.get(f"/c/SAN-20261127-0000000000?h={cert.sha256}")
    assert wrong_hash.status_code == no_hash.status_code == unknown.status_code == 404
    assert wrong_hash.text == no_hash.text == unknown.text
    assert cert.cert_id not in wrong_hash.text


@pytest.mark.parametrize("fmt", ["pdf", "json"])
def test_uploading_the_certificate_shows_valid(client, evidence: Evidence, fmt: str) -> None:
    path = evidence.certificate.pdf_path if fmt == "pdf" else evidence.certificate.json_path
    page = upload(client, path.read_bytes(), path.name, f"application/{fmt}")
    assert page.status_code == 200
    assert "Giltigt" in page.text
    assert "Ej giltigt" not in page.text
    if fmt == "pdf":
        assert '<tr class="ok" data-check="pdf">' in page.text


def test_a_tampered_certificate_is_not_valid_and_says_why(client, evidence: Evidence) -> None:
    page = upload(client, tamper_json(_json(evidence)), "c.json", "application/json")
    assert page.status_code == 200
    assert "Ej giltigt" in page.text
    assert '<tr class="failed" data-check="signature">' in page.text
    assert "Signaturen stämmer inte" in page.text  # the reason, in Swedish and English
    assert "The signature does not match" in page.text
    assert "FORGED-0001" in page.text  # shown, under "not verified"
    assert "inte verifierade" in page.text
    assert 'id="in-log">Nej' in page.text  # the log holds the original, not this one


def test_a_certificate_signed_by_an_unregistered_key_is_not_valid(
    client, evidence: Evidence, tmp_path
) -> None:
    from asset_pipeline.evidence.canonical import document_bytes
    from asset_pipeline.evidence.signing import sign_document

    outsider = Station(data_dir=tmp_path / "outsider")
    outsider.initialize(new_config("Forger AB", "x"))  # its own database: never registered here
    document = read_document(_json(evidence)).document
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    forged = sign_document(unsigned, outsider.key)
    assert verify_bytes(forged.data, outsider.key.public_key).checks[0].status == "ok"
    page = upload(client, document_bytes(forged.document), "c.json", "application/json")
    assert "Ej giltigt" in page.text
    assert '<tr class="failed" data-check="key">' in page.text
    assert "is not registered in this database" in page.text
    outsider.close()


def test_a_retired_key_keeps_older_documents_valid_but_not_newer_ones(
    client, evidence: Evidence
) -> None:
    station = evidence.station
    with station.session() as session:
        stations.retire(session, station.key.fingerprint, "laptop stolen", by="dpo")
    older = client.get(evidence.link)
    assert "Giltigt" in older.text
    assert "Ej giltigt" not in older.text
    assert "Återkallad" in older.text
    assert "laptop stolen" in older.text
    # The thief signs a new document dated after the retirement (with the stolen key).
    from asset_pipeline.evidence.canonical import document_bytes
    from asset_pipeline.evidence.signing import sign_document

    document = read_document(_json(evidence)).document
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    unsigned["issued_at"] = (utcnow() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    late = sign_document(unsigned, station.key)
    page = upload(client, document_bytes(late.document), "late.json", "application/json")
    assert "Ej giltigt" in page.text
    assert "the document is dated after that" in page.text


def test_a_key_swapped_in_the_registry_is_caught(client, evidence: Evidence, tmp_path) -> None:
    other = Station(data_dir=tmp_path / "other")
    other.initialize(new_config("Forger AB", "x"))
    from asset_pipeline.station.keys import public_pem

    with evidence.station.session() as session:
        row = session.scalar(select(RegisteredKey))
        row.public_key_pem = public_pem(other.key.public_key)
    page = client.get(evidence.link)
    assert "Ej giltigt" in page.text
    assert "is not the key" in page.text
    other.close()


def test_uploads_over_the_limit_are_refused_with_a_page(client: TestClient) -> None:
    big = b"%PDF-1.7\n" + b"0" * (MAX_UPLOAD + 1)
    page = upload(client, big, "big.pdf", "application/pdf")
    assert page.status_code == 413
    assert "Filen är för stor" in page.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        boundary = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.pdf\r\n"
        yield boundary + b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        for _ in range(MAX_UPLOAD // 65536 + 2):
            yield b"0" * 65536

    page = client.post(
        "/verify", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert page.status_code == 413
    assert "Filen är för stor" in page.text


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"a": 1}', "text/plain"),  # JSON declared as something else
        (b"%PDF-1.7\n%%EOF", "application/json"),  # a PDF declared as JSON
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"<html></html>", "text/html"),
        (b"", "application/json"),
    ],
)
def test_other_content_types_are_refused(client, data: bytes, content_type: str) -> None:
    page = upload(client, data, "x", content_type)
    assert page.status_code == 415
    assert "Filtypen stöds inte" in page.text


def test_requests_that_are_not_uploads_get_error_pages(client: TestClient) -> None:
    not_multipart = client.post(
        "/verify", content=b"{}", headers={"content-type": "application/json"}
    )
    assert not_multipart.status_code == 415
    no_file = client.post("/verify", data={"other": "x"}, files={"x": ("", b"", "text/plain")})
    assert no_file.status_code == 400
    wrong_method = client.get("/verify")
    assert wrong_method.status_code == 405
    assert "Metoden stöds inte" in wrong_method.text
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    for page in (not_multipart, no_file, wrong_method, missing):
        assert page.headers["content-type"].startswith("text/html")
        assert "Traceback" not in page.text


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b"{" * 10_000 + b"}" * 10_000,
        b'{"schema": "asset-pipeline/certificate-of-sanitization", "n": ' + b"9" * 5000 + b"}",
    ],
)
def test_hostile_json_is_a_not_valid_page(client: TestClient, data: bytes) -> None:
    page = upload(client, data, "x.json", "application/json")
    assert page.status_code == 200
    assert "Ej giltigt" in page.text
    assert '<tr class="failed" data-check="format">' in page.text


_PDF_BODY = (
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
)
_AT = len(_PDF_BODY)


@pytest.mark.parametrize(
    "data",
    [
        _PDF_BODY + b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
        b"trailer<</Size 3/Root 1 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (_AT, _AT),
        _PDF_BODY + b"xref\n0 99999999\n0000000000 65535 f \n"
        b"trailer<</Size 99999999/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % _AT,
        b"%PDF-1.7\n" + bytes(range(256)) * 800 + b"\n%%EOF\n",
    ],
    ids=["looping-xref", "huge-xref", "random-bytes"],
)
def test_hostile_pdf_is_a_not_valid_page(client: TestClient, data: bytes) -> None:
    page = upload(client, data, "x.pdf", "application/pdf")
    assert page.status_code == 200
    assert "Ej giltigt" in page.text
    assert '<tr class="failed" data-check="format">' in page.text


def test_every_page_carries_the_security_headers(client, evidence: Evidence) -> None:
    for page in (client.get("/"), client.get(evidence.link), client.get("/nope")):
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # no scripts at all
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-content-type-options"] == "nosniff"


def test_the_token_opens_its_batch_and_its_reports(client, evidence: Evidence) -> None:
    page = client.post("/reports", data={"token": evidence.token.upper().replace("-", " ")})
    assert page.status_code == 200
    assert "Åre kommun" in page.text
    assert evidence.report_id in page.text
    assert evidence.certificate.cert_id in page.text
    assert evidence.link.replace("&", "&amp;") in page.text or evidence.link in page.text
    assert evidence.second.cert_id not in page.text  # another customer's batch
    form = {"token": evidence.token, "id": evidence.report_id}
    as_json = client.post("/reports/download", data={**form, "format": "json"})
    assert as_json.status_code == 200
    assert (
        as_json.headers["content-disposition"]
        == f'attachment; filename="{evidence.report_id}.json"'
    )
    key = evidence.station.key.public_key
    assert verify_bytes(as_json.content, key).ok
    assert read_document(as_json.content).document["batch"]["id"] == evidence.batch_id
    as_pdf = client.post("/reports/download", data={**form, "format": "pdf"})
    assert as_pdf.status_code == 200
    assert as_pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(as_pdf.content))
    assert f"{evidence.report_id}.json" in reader.attachments
    assert verify_bytes(as_pdf.content, key).ok


def test_without_the_token_nothing_is_seen(client, evidence: Evidence) -> None:
    wrong = "0" * 32
    answers = [
        client.post("/reports", data={"token": wrong}),
        client.post("/reports", data={"token": "not a token"}),
        client.post("/reports", data={"token": ""}),
        client.post("/reports/download", data={"token": wrong, "id": evidence.report_id}),
        # A valid token does not open another batch's document.
        client.post(
            "/reports/download", data={"token": evidence.token, "id": evidence.second.cert_id}
        ),  # fmt: skip
        client.post(
            "/reports/download", data={"token": evidence.token, "id": "RPT-20261127-0000000000"}
        ),  # fmt: skip
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert "Åre kommun" not in answers[0].text
    assert client.get("/reports").status_code == 200


def test_a_database_error_is_a_page_without_a_traceback(evidence: Evidence) -> None:
    sessions = open_existing_database(evidence.station.database_url)
    app = create_app(sessions)
    with sessions.begin() as session:
        session.execute(text("DROP TABLE station_key"))
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get(evidence.link)
    assert page.status_code == 500
    assert "Något gick fel" in page.text
    assert "Traceback" not in page.text
    assert "station_key" not in page.text
    sessions.kw["bind"].dispose()


def test_the_upload_form_is_plain_html(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<script" not in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert json.dumps  # the page needs no JSON API either


def test_a_report_pdf_missing_or_swapped_on_disk_is_not_handed_out(
    client: TestClient, evidence: Evidence
) -> None:
    report_pdf = evidence.station.reports_dir / f"{evidence.report_id}.pdf"
    form = {"token": evidence.token, "id": evidence.report_id, "format": "pdf"}
    # Swapped: another document's PDF under the report's name.
    report_pdf.write_bytes(evidence.certificate.pdf_path.read_bytes())
    assert client.post("/reports/download", data=form).status_code == 404
    report_pdf.unlink()
    assert client.post("/reports/download", data=form).status_code == 404
    page = client.post("/reports", data={"token": evidence.token})
    assert f'value="{evidence.report_id}.json"' in page.text
    assert f'value="{evidence.report_id}.pdf"' not in page.text  # only what can be delivered
