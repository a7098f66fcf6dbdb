"""The whole-file PDF signature (PAdES) and the page-text check, attacked as issue 13 did.

Each attack here was accepted by `cert verify` before PDFs were signed: a page edited with qpdf
(serial and customer changed), random byte flips outside the attached JSON (83 of 100
accepted), an incremental update appended after issuing.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from evidence_fixtures import legacy_signed, load_device, scan_report, wipe_result

from asset_pipeline.errors import ConfigError, InvalidDocument
from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.pdf import render_pdf
from asset_pipeline.evidence.pdf_signature import read_pdf_signature, sign_pdf
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.station.certificate import SigningCertificate
from asset_pipeline.station.config import load_config, write_config
from asset_pipeline.station.context import Station

SERIAL = "WD-WCC6Y7770001"


@pytest.fixture
def issued(station: Station, add_device) -> issuing.IssuedCertificate:
    with station.session() as session:
        return issuing.issue_sanitization_certificate(
            session,
            station,
            load_device(session, add_device(serial=SERIAL)),
            wipe_result=wipe_result(),
            pre_scan=None,
            post_scan=scan_report(),
        )


def _verdict(data: bytes, public_key) -> str:  # noqa: ANN001
    """ "ok", or the reason the file is refused."""
    try:
        report = verify_bytes(data, public_key)
    except InvalidDocument as e:
        return f"invalid: {e}"
    return "ok" if report.ok else f"failed: {report.failure}"


def qpdf_edit(pdf: Path, work: Path, edits: list[tuple[str, str]]) -> bytes:
    """Edit text on the page as an attacker would: `qpdf --qdf`, change the strings, `fix-qdf`.

    Only page content (lines that show text, `Tj`) is changed, never the attached JSON, in
    both forms reportlab writes a string in: literal `(...)` and hex `<...>`.
    """
    qdf = work / "edit.qdf.pdf"
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), str(qdf)], check=True)
    lines = qdf.read_bytes().split(b"\n")
    changed = 0
    for i, line in enumerate(lines):
        if not line.endswith(b"Tj T* ET"):
            continue
        for old, new in edits:
            for a, b in (
                (old.encode(), new.encode()),
                (old.encode().hex().encode(), new.encode().hex().encode()),
            ):  # noqa: E501
                if a in line:
                    line, changed = line.replace(a, b), changed + 1
        lines[i] = line
    assert changed >= len(edits), "the edit found nothing to change"
    return subprocess.run(
        ["fix-qdf"], input=b"\n".join(lines), capture_output=True, check=True
    ).stdout


def _legacy_pdf(issued: issuing.IssuedCertificate, station: Station) -> tuple[bytes, bytes]:
    """A certificate and its PDF as releases before PDF signatures wrote them."""
    old = legacy_signed(issued.signed.document, station.key)
    return old.data, render_pdf(old)


def test_the_pdf_is_signed_over_the_entire_file(issued, station: Station) -> None:
    data = issued.pdf_path.read_bytes()
    facts = read_pdf_signature(data)
    assert facts is not None
    assert (facts.count, facts.covers_whole_file, facts.intact, facts.valid) == (
        1,
        True,
        True,
        True,
    )
    assert facts.signer_fingerprint == station.key.fingerprint
    assert b"/ETSI.CAdES.detached" in data  # PAdES baseline, not adbe.pkcs7.detached
    assert _verdict(data, station.key.public_key) == "ok"


def test_a_qpdf_edit_of_serial_and_customer_is_rejected(issued, station, tmp_path) -> None:
    edits = [(SERIAL, "WD-WCC6Y9990009"), ("kommun", "kommuN")]
    edited = qpdf_edit(issued.pdf_path, tmp_path, edits)
    assert SERIAL.encode() in issued.pdf_path.read_bytes()  # the JSON still names the old one
    report = verify_bytes(edited, station.key.public_key)
    checks = {c.name: c for c in report.checks}
    assert not report.ok
    assert checks["signature"].status == "ok"  # the attached JSON is untouched
    assert "not cover the whole file" in checks["pdf_signature"].detail
    assert checks["pdf"].detail.startswith("the page does not show what the signed JSON says")


def test_a_qpdf_edit_of_a_legacy_pdf_is_caught_by_the_page_text(issued, station, tmp_path):
    _, pdf = _legacy_pdf(issued, station)
    path = tmp_path / "legacy.pdf"
    path.write_bytes(pdf)
    assert _verdict(pdf, station.key.public_key) == "ok"
    for edits in ([(SERIAL, "WD-WCC6Y9990009")], [("kommun", "kommuN")]):
        edited = qpdf_edit(path, tmp_path, edits)
        verdict = _verdict(edited, station.key.public_key)
        assert verdict.startswith("failed: the page does not show what the signed JSON says")


def test_byte_flips_outside_the_attached_json_are_all_rejected(issued, station) -> None:
    pdf = issued.pdf_path.read_bytes()
    attached = issued.signed.data
    start = pdf.index(attached)
    outside = [*range(start), *range(start + len(attached), len(pdf))]
    rng = random.Random(13)
    accepted = []
    for _ in range(100):
        data = bytearray(pdf)
        at = rng.choice(outside)
        data[at] ^= rng.randrange(1, 256)
        if _verdict(bytes(data), station.key.public_key) == "ok":
            accepted.append(at)
    assert accepted == []


@pytest.mark.parametrize("change", ["space", "case", "padding"])
def test_the_unsigned_gap_holds_only_the_signature(issued, station, change) -> None:
    """The /Contents hex string is the one part no digest covers: each of these left the CMS
    blob the same to a parser, and each was accepted before the gap was checked byte for byte."""
    pdf = issued.pdf_path.read_bytes()
    gap_start = pdf.index(b"/Contents <") + len(b"/Contents <")
    gap_end = pdf.index(b">", gap_start)
    data = bytearray(pdf)
    if change == "padding":
        data[gap_end - 1 : gap_end] = b"1"  # the last zero of the padding
    elif change == "space":
        data[gap_end - 1 : gap_end] = b" "  # white space inside a hex string is legal PDF
    else:
        at = next(i for i in range(gap_start, gap_end) if pdf[i : i + 1] in b"ABCDEF")
        data[at : at + 1] = pdf[at : at + 1].lower()
    assert "altered after signing" in _verdict(bytes(data), station.key.public_key)


def test_an_incremental_update_after_signing_is_rejected(issued, station) -> None:
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = issued.pdf_path.read_bytes()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = writer.trailer["/Info"]
    info[NameObject("/Title")] = TextStringObject("Certificate of Purge")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(pdf)  # the signed revision is untouched
    assert "not cover the whole file" in _verdict(out.getvalue(), station.key.public_key)


def test_a_second_signature_by_another_key_is_rejected(issued, station, tmp_path) -> None:
    from asset_pipeline.station.keys import ensure_station_key

    other = ensure_station_key(tmp_path / "attacker")
    resigned = sign_pdf(
        issued.pdf_path.read_bytes(), other, _self_signed(other), field_name="Countersign"
    )
    assert "holds 2 signatures" in _verdict(resigned, station.key.public_key)


def test_a_pdf_signed_by_another_key_is_rejected(issued, station, tmp_path) -> None:
    from asset_pipeline.station.keys import ensure_station_key

    other = ensure_station_key(tmp_path / "attacker")
    forged = sign_pdf(render_pdf(issued.signed), other, _self_signed(other))
    assert f"not by {station.key.fingerprint}" in _verdict(forged, station.key.public_key)


def test_a_new_certificate_without_a_pdf_signature_is_rejected(issued, station) -> None:
    unsigned = render_pdf(issued.signed)  # the same page, the signing step left out
    assert _verdict(unsigned, station.key.public_key) == "failed: the PDF has no PDF signature"


def test_a_legacy_certificate_still_verifies_with_a_warning(issued, station) -> None:
    data, pdf = _legacy_pdf(issued, station)
    assert b'"canonicalization"' not in data
    assert verify_bytes(data, station.key.public_key).ok  # the old encoding
    report = verify_bytes(pdf, station.key.public_key)
    assert report.ok, report.failure
    assert report.warnings == (
        "no PDF signature (issued before certificate-of-sanitization schema version 3)",
    )


def test_cert_verify_prints_the_warning_line(run_cli, issued, station, tmp_path) -> None:
    assert run_cli("cert", "verify", str(issued.pdf_path)).stderr == ""
    data, pdf = _legacy_pdf(issued, station)
    with sqlite3.connect(station.data_dir / "station.db") as db:  # the station stored that one
        db.execute(
            "UPDATE certificate SET document = ?, sha256 = ? WHERE cert_id = ?",
            (data.decode(), hashlib.sha256(data).hexdigest(), issued.cert_id),
        )
    path = tmp_path / "legacy.pdf"
    path.write_bytes(pdf)
    result = run_cli("cert", "verify", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Warning: no PDF signature (issued before certificate-of-sanitization schema version 3)\n"
    )


def _self_signed(key) -> SigningCertificate:  # noqa: ANN001
    from asset_pipeline.station.certificate import _self_signed as make
    from asset_pipeline.station.config import new_config

    return SigningCertificate(make(key, new_config("Attacker AB", "x")), (), Path("-"))


def _ca_issued(station: Station, tmp_path: Path, public_key) -> Path:  # noqa: ANN001
    """The organisation's CA (its own Ed25519 key) certifying `public_key`; leaf then CA."""
    ca_key = Ed25519PrivateKey.generate()
    now = datetime.datetime.now(datetime.UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Återbruk Norrland CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, None)
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bänk-3")]))
        .issuer_name(ca_name)
        .public_key(public_key)
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(ca_key, None)
    )
    path = tmp_path / "station-ca.pem"
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca)))
    return path


def test_a_certificate_from_the_organisations_ca_signs_the_pdf(station, add_device, tmp_path):
    path = _ca_issued(station, tmp_path, station.key.public_key)
    config = load_config(station.data_dir)
    write_config(
        station.data_dir, config.__class__(**{**_fields(config), "certificate": str(path)})
    )
    fresh = Station(data_dir=station.data_dir)
    assert not fresh.certificate.self_signed
    with fresh.session() as session:
        cert = issuing.issue_sanitization_certificate(
            session, fresh, load_device(session, add_device()),
            wipe_result=wipe_result(), pre_scan=None, post_scan=scan_report(),
        )  # fmt: skip
    data = cert.pdf_path.read_bytes()
    assert "bänk-3" in read_pdf_signature(data).signer  # the CA-issued leaf, not self-signed
    assert _verdict(data, fresh.key.public_key) == "ok"
    fresh.close()


def test_a_ca_certificate_for_another_key_is_refused_at_start(run_cli, station, tmp_path):
    other = Ed25519PrivateKey.generate().public_key()
    path = _ca_issued(station, tmp_path, other)
    config = load_config(station.data_dir)
    write_config(
        station.data_dir, config.__class__(**{**_fields(config), "certificate": str(path)})
    )
    with pytest.raises(ConfigError, match="is not for the station key"):
        _ = Station(data_dir=station.data_dir).key
    result = run_cli("--data-dir", str(station.data_dir), "batch", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: [station] certificate ")
    assert result.stderr.count("\n") == 1, result.stderr


def _fields(config) -> dict:  # noqa: ANN001
    return {name: getattr(config, name) for name in config.__slots__}


def test_the_self_signed_certificate_is_kept_and_follows_a_renamed_organisation(station):
    from dataclasses import replace

    from asset_pipeline.station.certificate import CERTIFICATE_NAME, station_certificate

    first = station.certificate
    assert first.self_signed
    assert first.path == station.data_dir / CERTIFICATE_NAME
    again = station_certificate(station.data_dir, station.key, station.config)
    assert again.certificate == first.certificate  # stored, not made anew each time
    renamed = station_certificate(
        station.data_dir, station.key, replace(station.config, organization="Nytt Namn AB")
    )
    assert "Nytt Namn AB" in renamed.certificate.subject.rfc4514_string()
    assert renamed.certificate.public_key() == first.certificate.public_key()
