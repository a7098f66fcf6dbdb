"""Certificates of sanitization and destruction: invariants, signing, PDF, tamper evidence."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from evidence_fixtures import (
    PLANTED,
    PRE_FINDINGS,
    load_device,
    overwrite_step,
    scan_report,
    wipe_result,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from asset_pipeline import __version__
from asset_pipeline.errors import CertificateRefused, EvidenceError
from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.evidence.privacy import screen
from asset_pipeline.evidence.signing import SANITIZATION, SCHEMAS
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.flow import destruction
from asset_pipeline.station import keys
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Certificate

FLIPS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def issue(station: Station, device_id: int, **kw) -> issuing.IssuedCertificate:
    """A sanitization certificate from results of the wipe and scan engines' shapes."""
    with station.session() as session:
        return issuing.issue_sanitization_certificate(
            session,
            station,
            load_device(session, device_id),
            wipe_result=kw.pop("wipe", wipe_result()),
            pre_scan=kw.pop("pre", scan_report(PRE_FINDINGS)),
            post_scan=kw.pop("post", scan_report()),
            **kw,
        )


@pytest.fixture
def issued(station: Station, add_device) -> issuing.IssuedCertificate:
    return issue(station, add_device(), notes=["Kund önskar återbruk"])


def _fails(data: bytes, public_key, **kw) -> bool:
    try:
        return not verify_bytes(data, public_key, **kw).ok
    except EvidenceError:
        return True


def test_certificate_carries_the_rev2_section_4_6_fields(issued, station: Station) -> None:
    doc = issued.signed.document
    assert doc["schema"] == SANITIZATION
    assert doc["schema_version"] == SCHEMAS[SANITIZATION] == 3
    assert doc["canonicalization"] == "RFC8785"
    issuer = doc["issuer"]
    assert (issuer["organization"], issuer["org_number"]) == ("Återbruk Norrland AB", "556677-8899")
    assert (issuer["site"], issuer["station_name"]) == ("Sundsvall", "bänk-3")
    assert issuer["key_fingerprint"] == station.key.fingerprint
    assert issuer["public_key_file"] == "station_key.pub.pem"
    media = doc["media"]
    assert (media["manufacturer"], media["model"], media["serial"]) == (
        "WDC",
        "WDC WD10EZEX-08WN4A0",
        "WD-WCC6Y0000001",
    )
    assert (media["property_number"], media["media_type"], media["interface"]) == (
        "INV-0001",
        "hdd",
        "sata",
    )
    assert doc["media_source"] == {
        "customer": "Åre kommun",
        "customer_org_number": "212000-2411",
        "asset": None,  # filled once intake links the drive to an asset
        "source_machine": "",
    }
    assert doc["pre_sanitization"] == {
        "basis": "pre-scan",
        "personal_data_present": True,
        "categories": ["email", "person_name", "personnummer"],
    }
    san = doc["sanitization"]
    assert san["method"] == "Clear"
    assert san["ieee_2883"] == {
        "method": "Clear",
        "interface": "ATA",
        "technique": "Overwrite",
        "command": "WRITE commands, all user-addressable sectors",
        "tool_method": "overwrite-random-zero",
    }
    assert (san["tool"], san["tool_version"]) == ("asset-pipeline", __version__)
    assert [(s["kind"], s["pattern"]) for s in san["steps"]] == [
        ("overwrite", "random"),
        ("overwrite", "zeros"),
    ]
    assert doc["verification"]["method"] == "sample"
    assert doc["verification"]["coverage"] == 0.0125
    assert doc["validation"]["decision"] == "accept"
    assert doc["validation"]["by"] == "Örjan Ekström"  # no second person: the operator
    assert doc["post_sanitization"] == {"categorization": "unclassified", "destination": "reuse"}
    performed = doc["people"]["performed_by"]
    assert performed == {
        "role": "performed",
        "name": "Örjan Ekström",
        "title": "Tekniker",
        "contact": "+46 60 12 34 56",
        "date": "2026-11-27",
        "location": "Sundsvall, bänk-3",
        "signature": {
            "kind": "station-on-behalf",
            "algorithm": "Ed25519",
            "key_fingerprint": station.key.fingerprint,
        },
    }
    assert doc["people"]["validated_by"]["name"] == "Örjan Ekström"
    assert doc["customer"]["agreement_reference"] == "PUB-2026-Ö1"
    assert doc["scans"]["pre"]["findings"]["personnummer"] == {"count": 14, "distinct": 6}
    assert doc["scans"]["post"]["total_findings"] == 0
    assert doc["processing"]["started_at"] <= doc["processing"]["ended_at"]
    assert doc["notes"] == ["Kund önskar återbruk"]
    # The signature covers every one of these fields (the JSON verifies, a change does not).
    assert verify_bytes(issued.signed.data, station.key.public_key).ok


def test_assurance_record_names_retries_health_and_what_was_not_reached(
    station: Station, add_device
) -> None:
    retried = {"offset": 1048576, "length": 65536, "errno": 5, "error": "EIO", "message": "x"}
    wipe = wipe_result(
        steps=[overwrite_step("random", retried=[retried]), overwrite_step("zeros")],
        health_after={"status": "passed", "source": "smartctl -H -A"},
    )
    wipe["verification"]["retried"] = [{**retried, "offset": 4096}]
    doc = issue(station, add_device(), wipe=wipe).signed.document
    record = doc["assurance"]
    assert record["completion_status"] == "completed"
    assert record["errors"] == {"count": 0, "ranges": []}
    assert record["retries"]["count"] == 2
    assert record["retries"]["bytes"] == 2 * 65536
    assert [(r["step"], r["offset"]) for r in record["retries"]["ranges"]] == [
        ("pass 1 random", 1048576),
        ("verify", 4096),
    ]
    assert record["health"] == {
        "before": {"status": "passed", "source": "smartctl -H -A"},
        "after": {"status": "passed", "source": "smartctl -H -A"},
    }
    codes = [x["code"] for x in record["not_reached"]]
    assert codes == ["reallocated-sectors", "not-read-back"]
    assert record["not_reached"][1]["fraction"] == 0.9875
    text = read_pdf(issue(station, add_device(), wipe=wipe).pdf_path.read_bytes()).text
    flat = " ".join(text.split())
    assert "2 intervall (131 072 byte) lyckades först vid omförsök" in flat.replace("\xa0", " ")
    assert "2 ranges (131,072 bytes) succeeded only on a retry" in flat


def test_overwrite_of_flash_states_the_spare_area_it_cannot_reach(
    station: Station, add_device
) -> None:
    device_id = add_device()
    with station.session() as session:
        load_device(session, device_id).media_type = "ssd"
    wipe = wipe_result(health=None, hidden_areas=None)
    doc = issue(station, device_id, wipe=wipe).signed.document
    codes = [x["code"] for x in doc["assurance"]["not_reached"]]
    assert codes == [
        "flash-spare-area",
        "hidden-areas-not-checked",
        "not-read-back",
        "health-unknown",
    ]
    assert doc["assurance"]["health"]["before"] == {"status": "not-checked", "source": ""}


def test_certificate_is_stored_written_and_logged(issued, station: Station) -> None:
    assert issued.json_path == station.certificates_dir / f"{issued.cert_id}.json"
    assert issued.json_path.read_bytes() == issued.signed.data
    assert issued.pdf_path.read_bytes().startswith(b"%PDF")
    with station.session() as session:
        row = issuing.find_certificate(session, issued.cert_id)
        assert row.document.encode() == issued.signed.data
        assert row.sha256 == issued.sha256
        report = verify_bytes(issued.signed.data, station.key.public_key, session=session)
    assert report.ok, report.checks
    checks = [(c.name, c.status) for c in report.checks]
    assert checks == [("signature", "ok"), ("audit", "ok"), ("stored", "ok")]


def test_pdf_verifies_alone_and_with_the_log(issued, station: Station) -> None:
    data = issued.pdf_path.read_bytes()
    report = verify_bytes(data, station.key.public_key)
    assert report.ok
    assert [(c.name, c.status) for c in report.checks] == [
        ("signature", "ok"),
        ("pdf", "ok"),
        ("pdf_signature", "ok"),
        ("audit", "ok"),  # the inclusion proof under the head the document carries
    ]
    assert report.warnings == ()
    with station.session() as session:
        assert verify_bytes(data, station.key.public_key, session=session).ok


def test_pdf_is_a4_with_text_qr_and_footer(issued, station: Station) -> None:
    evidence = read_pdf(issued.pdf_path.read_bytes())
    assert evidence.pages in (1, 2)
    for page in PdfReader(issued.pdf_path).pages:
        assert [round(float(x)) for x in page.mediabox[2:]] == [595, 842]
    for expected in (
        "WD-WCC6Y0000001",
        "Clear (rensning)",
        "Överskrivning",
        "Overwrite",
        "PUB-2026-Ö1",
        "Åre kommun",
        "Örjan Ekström",
        "Återbruk Norrland AB",
        "önskar återbruk",
        "station_key.pub.pem",
        f"asset-pipeline cert verify {issued.cert_id}.pdf --public-key station_key.pub.pem",
    ):
        assert expected in evidence.text, expected
    assert "station.pub.pem" not in evidence.text
    assert station.key.fingerprint in evidence.text
    assert evidence.qr_texts == (f"AP-CERT;id={issued.cert_id};sha256={issued.sha256}",)
    assert evidence.attachments == {f"{issued.cert_id}.json": issued.signed.data}


def test_another_stations_key_fails(issued, tmp_path: Path) -> None:
    other = keys.ensure_station_key(tmp_path / "other").public_key
    for data in (issued.signed.data, issued.pdf_path.read_bytes()):
        report = verify_bytes(data, other)
        assert not report.ok
        assert "not by the given key" in report.failure


@FLIPS
@given(position=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_any_changed_byte_of_the_json_fails(issued, station, position, mask) -> None:
    data = bytearray(issued.signed.data)
    data[int(position * len(data))] ^= mask
    assert _fails(bytes(data), station.key.public_key)


@FLIPS
@given(position=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_any_changed_byte_of_the_pdf_attachment_fails(issued, station, position, mask) -> None:
    pdf = issued.pdf_path.read_bytes()
    start = pdf.index(issued.signed.data)  # stored uncompressed: flip the file's own bytes
    data = bytearray(pdf)
    data[start + int(position * len(issued.signed.data))] ^= mask
    assert _fails(bytes(data), station.key.public_key)


def _rebuild(pdf: Path, name: str, attachment: bytes) -> bytes:
    """The same page with its attachment replaced, as an editor of the PDF would do it."""
    writer = PdfWriter(clone_from=PdfReader(pdf))
    writer._root_object.pop("/Names", None)  # drop the original attachment, keep the page
    writer.add_attachment(name, attachment)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_rebuilt_pdf_with_the_same_attachment_fails(issued, station) -> None:
    """Same page, same attachment, but rewritten: the PDF signature no longer covers it."""
    data = _rebuild(issued.pdf_path, f"{issued.cert_id}.json", issued.signed.data)
    report = verify_bytes(data, station.key.public_key)
    assert [c.status for c in report.checks[:3]] == ["ok", "ok", "failed"]  # the PDF signature
    assert not report.ok
    assert "does not cover the whole file" in report.failure


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(position=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_a_rebuilt_pdf_with_an_edited_attachment_fails(issued, station, position, mask) -> None:
    attached = bytearray(issued.signed.data)
    attached[int(position * len(attached))] ^= mask
    data = _rebuild(issued.pdf_path, f"{issued.cert_id}.json", bytes(attached))
    assert _fails(data, station.key.public_key)


def test_a_pdf_whose_qr_names_another_document_fails(station: Station, add_device) -> None:
    first, second = issue(station, add_device()), issue(station, add_device())
    # The page and QR code of the first, the signed JSON of the second:
    data = _rebuild(first.pdf_path, f"{second.cert_id}.json", second.signed.data)
    report = verify_bytes(data, station.key.public_key)
    assert not report.ok
    assert "QR code names" in report.failure


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"wipe": wipe_result(outcome="failed")}, "outcome is 'failed'"),
        ({"wipe": wipe_result(outcome="aborted")}, "outcome is 'aborted'"),
        ({"wipe": wipe_result(errors=[{"offset": 4096, "errno": 5}])}, "1 error"),
        (
            {
                "wipe": wipe_result(
                    verification={"method": "sample", "coverage": 0.01, "mismatches": [[0, 4096]]}
                )
            },
            "1 mismatch",
        ),
        ({"wipe": wipe_result(verification={})}, "not verified"),
        ({"post": scan_report({"personnummer": (1, 1)})}, "post-scan found 1"),
        ({"post": scan_report(not_scannable=[{"region": "p2", "reason": "LUKS"}])}, "could not"),
        ({"post": None}, "no post-sanitization scan"),
        (
            {"wipe": wipe_result(plan={"level": "purge", "method": "destroy", "reason": "x"})},
            "destruction",
        ),
    ],
)
def test_no_certificate_unless_sanitized_verified_and_clean(
    station: Station, add_device, kw: dict, reason: str
) -> None:
    device_id = add_device()
    with pytest.raises(CertificateRefused, match=reason):
        issue(station, device_id, **kw)
    with station.session() as session:
        assert session.query(Certificate).count() == 0
    assert not station.certificates_dir.exists() or not list(station.certificates_dir.iterdir())


def test_clear_does_not_satisfy_a_purge_agreement(station: Station, add_device) -> None:
    with pytest.raises(CertificateRefused, match="requires purge"):
        issue(station, add_device(level="purge"))


def test_hidden_area_left_is_stated_as_not_reached(station: Station, add_device) -> None:
    wipe = wipe_result(hidden_areas={"status": "could-not-be-removed", "hidden_sectors": 2048})
    doc = issue(station, add_device(), wipe=wipe).signed.document
    assert {"code": "hidden-areas-left", "sectors": 2048} in doc["assurance"]["not_reached"]


def test_certificate_of_destruction(station: Station, add_device) -> None:
    device_id = add_device(state="failed")
    with station.session() as session:
        device = load_device(session, device_id)
        device.state_reason = "verification failed at byte 1048576"
        issued = destruction.record_destruction(
            session,
            station,
            device,
            method="shred",
            destroyed_on=date.today(),
            witness="Lena Berg",
            facility="Stena Recycling, Luleå",
        )
    doc = issued.signed.document
    assert doc["destruction"]["method"] == "Destroy"
    assert doc["destruction"]["ieee_2883"] == {"method": "Destruct", "technique": "shred"}
    assert doc["destruction"]["reason_code"] == "wipe-failed"
    assert doc["destruction"]["reason"].startswith("device failed")
    assert doc["people"]["witness"] == {"role": "witness", "name": "Lena Berg",
                                        "date": date.today().isoformat()}  # fmt: skip
    assert doc["people"]["performed_by"]["name"] == "Örjan Ekström"
    assert doc["post_sanitization"] == {"categorization": "destroyed", "destination": "destroy"}
    with station.session() as session:
        assert load_device(session, device_id).state == "destroyed"
        assert verify_bytes(
            issued.pdf_path.read_bytes(), station.key.public_key, session=session
        ).ok
    assert "Luleå" in read_pdf(issued.pdf_path.read_bytes()).text


@pytest.mark.parametrize(
    ("state", "kw", "reason"),
    [
        ("registered", {}, "wipe failed or whose plan ends in destroy"),
        ("failed", {"method": "microwave"}, "not one of"),
        ("failed", {"destroyed_on": date.today() + timedelta(days=2)}, "in the future"),
        ("failed", {"witness": " "}, "needs a witness"),
    ],
)
def test_destruction_refusals(station: Station, add_device, state, kw, reason) -> None:
    device_id = add_device(state=state)
    args = {"method": "shred", "destroyed_on": date.today(), "witness": "Lena Berg", **kw}
    with station.session() as session, pytest.raises(CertificateRefused, match=reason):
        destruction.record_destruction(session, station, load_device(session, device_id), **args)


def test_no_personal_data_value_in_certificate_pdf_or_log(issued, station: Station) -> None:
    from asset_pipeline.evidence import audit

    pdf = issued.pdf_path.read_bytes()
    with station.session() as session:
        log = json.dumps(
            [audit.event_record(e) for e in audit.batch_events(session, 1)], ensure_ascii=False
        )
    outputs = {
        "json": issued.signed.data.decode(),
        "pdf text": read_pdf(pdf).text,
        "pdf bytes": pdf.decode("latin-1"),
        "log": log,
    }
    for name, text in outputs.items():
        for value in PLANTED:
            assert value not in text, f"{value!r} found in {name}"
        if name != "pdf bytes":  # compressed streams hold random digit runs; text is enough
            assert screen(text) is None, name
    _scan_with_detectors({k: v for k, v in outputs.items() if k != "pdf bytes"})


def _scan_with_detectors(outputs: dict[str, str]) -> None:
    """The scanners' own fast path finds no identifier in any output."""
    from scanners.fastpath import RawMatcher
    from scanners.findings import ValueHasher

    matcher = RawMatcher(ValueHasher(b"test-key-16bytes"))  # the contract wants >= 16 bytes
    for name, text in outputs.items():
        found = {f.category for f in matcher.scan(text.encode())}
        assert not found & {"personnummer", "samordningsnummer", "email", "payment_card", "iban"}, (
            f"{found} in {name}"
        )


def test_firmware_purge_is_named_as_ieee_2883_names_it(station: Station, add_device) -> None:
    device_id = add_device(level="purge")
    with station.session() as session:
        device = load_device(session, device_id)
        device.transport, device.media_type = "nvme", "nvme"
    firmware = {"step": "firmware", "method": "nvme-sanitize-block", "technique": "block erase",
                "commands": ["nvme sanitize /dev/nvme0 --sanact=2"], "seconds": 95.0,
                "outcome": "passed", "message": ""}  # fmt: skip
    wipe = wipe_result(
        plan={"level": "purge", "method": "nvme-sanitize-block", "category": "purge",
              "reason": "NVMe Sanitize: the drive's own sanitize reaches spare blocks"},
        steps=[firmware], bytes_written=0,
        verification={"method": "markers", "expected": "any", "coverage": 0.0101,
                      "bytes_read": 10_102_069_350, "seconds": 40.0, "mismatches": []},
    )  # fmt: skip
    issued = issue(station, device_id, wipe=wipe)
    san = issued.signed.document["sanitization"]
    assert san["method"] == "Purge"
    assert san["ieee_2883"]["method"] == "Purge"
    assert san["ieee_2883"]["interface"] == "NVMe"
    assert san["ieee_2883"]["technique"] == "Sanitize block erase"
    assert san["reason_code"] == "firmware-flash"
    codes = [x["code"] for x in issued.signed.document["assurance"]["not_reached"]]
    assert codes[0] == "firmware-reported"
    text = " ".join(read_pdf(issued.pdf_path.read_bytes()).text.split())
    assert "Purge (sanering), NVMe: Sanitize, blockradering" in text
    assert "Purge, NVMe: Sanitize block erase (Sanitize, SANACT 2 (block erase))" in text
    assert "Steg 1: disken körde Sanitize, SANACT 2 (block erase) och rapporterade framgång" in text
