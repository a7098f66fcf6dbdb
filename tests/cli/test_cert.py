"""`asset-pipeline cert verify|destroy`, including every kind of bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from evidence_fixtures import legacy_signed, load_device, scan_report, wipe_result

from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.signing import sign_document
from asset_pipeline.station import keys
from asset_pipeline.station.context import Station


@pytest.fixture
def issued(station: Station, add_device) -> issuing.IssuedCertificate:
    device_id = add_device()
    with station.session() as session:
        return issuing.issue_sanitization_certificate(
            session,
            station,
            load_device(session, device_id),
            wipe_result=wipe_result(),
            pre_scan=None,
            post_scan=scan_report(),
        )


def _one_error_line(result, code: int = 1) -> str:
    assert result.exit_code == code, result.stdout
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize("suffix", ["json_path", "pdf_path"])
def test_verify_with_own_key_and_exported_key(run_cli, issued, suffix, tmp_path) -> None:
    path = str(getattr(issued, suffix))
    own = run_cli("cert", "verify", path, "--json")
    assert own.exit_code == 0, own.stderr
    report = json.loads(own.stdout)
    assert report["verified"] is True
    assert {c["check"]: c["status"] for c in report["checks"]}["audit"] == "ok"
    run_cli("key", "export", "-o", str(tmp_path / "pub.pem"))
    assert run_cli("cert", "verify", path, "--public-key", str(tmp_path / "pub.pem")).exit_code == 0


def test_verify_without_a_station_needs_the_public_key(run_cli, issued, tmp_path, monkeypatch):
    run_cli("key", "export", "-o", str(tmp_path / "pub.pem"))
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(tmp_path / "customer"))  # no station here
    result = run_cli(
        "cert", "verify", str(issued.pdf_path), "--public-key", str(tmp_path / "pub.pem"), "--json"
    )
    assert result.exit_code == 0, result.stderr
    audit = json.loads(result.stdout)["checks"][-1]  # offline: the inclusion proof, no log
    assert (audit["check"], audit["status"]) == ("audit", "ok")
    assert audit["detail"].endswith("(inclusion proof; no database at hand)")
    assert not (tmp_path / "customer").exists()  # verifying created no station
    assert "--public-key" in _one_error_line(run_cli("cert", "verify", str(issued.json_path)))


def test_another_stations_key_fails(run_cli, issued, tmp_path) -> None:
    other = tmp_path / "other.pem"
    other.write_text(keys.public_pem(keys.ensure_station_key(tmp_path / "o").public_key))
    line = _one_error_line(
        run_cli("cert", "verify", str(issued.json_path), "--public-key", str(other))
    )
    assert line.startswith(f"Error: {issued.cert_id} does not verify: {issued.cert_id} was signed")


def test_changed_json_fails(run_cli, issued, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(issued.signed.data.replace(b'"Clear"', b'"Purge"'))
    assert "altered" in _one_error_line(run_cli("cert", "verify", str(bad)))


def test_newer_schema_version(run_cli, issued, station: Station, tmp_path) -> None:
    doc = {k: v for k, v in issued.signed.document.items() if k != "signature"}
    doc["schema_version"] = 3  # sign a valid one, then claim version 4 in the bytes
    newer = sign_document(doc, station.key).data.replace(
        b'"schema_version":3', b'"schema_version":4'
    )
    path = tmp_path / "newer.json"
    path.write_bytes(newer)
    assert _one_error_line(run_cli("cert", "verify", str(path))) == (
        "Error: certificate uses asset-pipeline/certificate-of-sanitization version 4; this "
        "tool reads up to version 3 (upgrade asset-pipeline)\n"
    )


def test_a_schema_1_certificate_still_verifies(run_cli, issued, station: Station, tmp_path):
    # A certificate as the previous release wrote it: schema 1, Rev. 1 Appendix G fields.
    doc = {k: v for k, v in issued.signed.document.items() if k != "signature"}
    doc["sanitization"] = {"method_type": "Clear", "technique": "overwrite-random", "steps": []}
    del doc["log"]  # sealed by its closing event's chain hash only, as before signed heads
    old = legacy_signed(doc, station.key, schema_version=1)
    path = tmp_path / "old.json"
    path.write_bytes(old.data)
    with sqlite3.connect(station.data_dir / "station.db") as db:  # the station stored that one
        db.execute(
            "UPDATE certificate SET document = ?, sha256 = ? WHERE cert_id = ?",
            (old.data.decode(), old.sha256, issued.cert_id),
        )
    result = run_cli("cert", "verify", str(path), "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["verified"] is True
    audit = json.loads(result.stdout)["checks"][-2]
    assert (audit["check"], audit["status"]) == ("audit", "ok")
    assert audit["detail"].endswith("chain verifies up to it")
    assert run_cli("log", "verify", "--anchor", str(path)).exit_code == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda c: c.pdf_path.read_bytes()[: len(c.pdf_path.read_bytes()) // 2],
            "Error: PDF is truncated (it does not end with %%EOF)\n",
        ),
        (lambda c: c.pdf_path.read_bytes()[:-300] + b"\n%%EOF\n", "Error: PDF cannot be read"),
        (lambda c: c.signed.data[:-1] + b',"id":"x"}', "duplicate key 'id'"),
        (lambda c: c.signed.data[:100], "not valid JSON"),
        (lambda c: b"", "not valid JSON"),
    ],
    ids=["truncated-pdf", "broken-pdf", "duplicate-keys", "truncated-json", "empty"],
)
def test_bad_files_are_one_line(run_cli, issued, tmp_path, make, message) -> None:
    path = tmp_path / "bad"
    path.write_bytes(make(issued))
    assert message in _one_error_line(run_cli("cert", "verify", str(path)))


def test_wrong_public_key_file_is_one_line(run_cli, issued, tmp_path) -> None:
    not_key = tmp_path / "key.pem"
    not_key.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    assert (
        _one_error_line(
            run_cli("cert", "verify", str(issued.json_path), "--public-key", str(not_key))
        )
        == f"Error: {not_key} is not a PEM public key\n"
    )
    missing = run_cli("cert", "verify", str(issued.json_path), "--public-key", str(tmp_path / "x"))
    assert "cannot read public key" in _one_error_line(missing)


def test_destroy_a_failed_device(run_cli, station: Station, add_device) -> None:
    device_id = add_device(state="failed")
    result = run_cli(
        "cert",
        "destroy",
        str(device_id),
        "--method",
        "shred",
        "--date",
        "2026-01-15",
        "--witness",
        "Lena Berg",
        "--facility",
        "Luleå",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["certificate_id"].startswith("DES-")
    assert run_cli("cert", "verify", out["pdf"]).exit_code == 0
    again = run_cli(
        "cert",
        "destroy",
        str(device_id),
        "--method",
        "shred",
        "--date",
        "2026-01-15",
        "--witness",
        "Lena Berg",
    )
    assert "already has a certificate of destruction" in _one_error_line(again)


def test_destroy_names_the_operator_given(run_cli, station: Station, add_device) -> None:
    device_id = add_device(state="failed")
    args = ["cert", "destroy", str(device_id), "--method", "crush", "--date", "2026-01-15",
            "--witness", "Lena Berg"]  # fmt: skip
    unknown = run_cli(*args, "--operator", "Okänd")
    assert "no operator 'Okänd' is registered" in _one_error_line(unknown)
    result = run_cli(*args, "--operator", "Lena Holm", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(Path(json.loads(result.stdout)["json"]).read_text())
    assert doc["people"]["performed_by"]["name"] == "Lena Holm"
    assert doc["people"]["witness"]["name"] == "Lena Berg"


def test_destroy_refuses_a_device_that_did_not_fail(run_cli, station: Station, add_device):
    device_id = add_device()
    result = run_cli(
        "cert",
        "destroy",
        str(device_id),
        "--method",
        "shred",
        "--date",
        "2026-01-15",
        "--witness",
        "Lena Berg",
    )
    assert _one_error_line(result) == (
        f"Error: device {device_id} is registered; destruction is recorded for devices whose "
        "wipe failed or whose plan ends in destroy\n"
    )
    assert "no device 42" in _one_error_line(
        run_cli(
            "cert", "destroy", "42", "--method", "shred", "--date", "2026-01-15", "--witness", "x"
        )
    )


def test_verify_missing_file_is_a_usage_error(run_cli, station_home: Path) -> None:
    result = run_cli("cert", "verify", "/nonexistent.json")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_certificate_from_another_station_skips_the_audit_check(
    run_cli, issued, station: Station, tmp_path, monkeypatch
) -> None:
    run_cli("key", "export", "-o", str(tmp_path / "pub.pem"))
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(tmp_path / "second"))
    run_cli("init")
    with Station(data_dir=tmp_path / "second").session() as session:  # its own event 1, 2, ...
        from asset_pipeline.evidence import audit

        for _ in range(3):
            audit.append_event(session, station_id="second", operator="x", event_type="a.b")
    result = run_cli(
        "cert", "verify", str(issued.json_path), "--public-key", str(tmp_path / "pub.pem"), "--json"
    )
    assert result.exit_code == 0, result.stdout
    audit_check = json.loads(result.stdout)["checks"][-1]
    assert audit_check["status"] == "skipped"
    assert "not in this database" in audit_check["detail"]


def test_certificate_whose_sealed_event_was_changed_fails(run_cli, issued, station) -> None:
    seq = issued.signed.document["closing_event"]["seq"]
    with sqlite3.connect(station.data_dir / "station.db") as db:
        db.execute("UPDATE audit_event SET payload = '{}' WHERE seq = ?", (seq,))
    line = _one_error_line(run_cli("cert", "verify", str(issued.pdf_path)))
    expected = f"log event {seq} was changed after it was written"
    assert line == f"Error: {issued.cert_id} does not verify: {expected}\n"


def auditor_copy(station: Station, directory: Path) -> Path:
    """A copy of the station's database, with what is still in its WAL, as an auditor gets it."""
    copy = directory / "audit-copy.db"
    source = sqlite3.connect(station.data_dir / "station.db")
    target = sqlite3.connect(copy)
    source.backup(target)
    target.close()
    source.close()
    return copy


def test_verify_with_a_copy_of_the_station_database_creates_nothing(
    run_cli, issued, station, tmp_path, monkeypatch
) -> None:
    run_cli("key", "export", "-o", str(tmp_path / "pub.pem"))
    copy = auditor_copy(station, tmp_path)
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(tmp_path / "auditor"))  # no station here
    pub = str(tmp_path / "pub.pem")

    def checks(db: Path) -> dict[str, str]:
        url = f"sqlite:///{db}"
        result = run_cli("--db-url", url, "cert", "verify", str(issued.pdf_path), "--public-key",
                         pub, "--json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return {c["check"]: c["status"] for c in json.loads(result.stdout)["checks"]}

    assert checks(copy)["audit"] == checks(copy)["stored"] == "ok"
    offline = checks(tmp_path / "missing.db")  # the inclusion proof alone; nothing stored to see
    assert offline["audit"] == "ok"
    assert "stored" not in offline
    assert not (tmp_path / "missing.db").exists()
    assert not (tmp_path / "auditor").exists()  # no station, key or config was created


def test_log_commands_read_a_copy_of_the_database_and_refuse_without_one(
    run_cli, issued, station, tmp_path, monkeypatch
) -> None:
    copy = auditor_copy(station, tmp_path)
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(tmp_path / "auditor"))  # no station here
    ok = run_cli("--db-url", f"sqlite:///{copy}", "log", "verify", "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "ok"
    assert "--db-url" in _one_error_line(run_cli("log", "verify"))
    assert "--db-url" in _one_error_line(run_cli("log", "export", "--batch", "1"))
    assert not (tmp_path / "auditor").exists()


def test_a_mistyped_db_url_on_a_station_is_not_made_into_a_clean_log(
    run_cli, issued, tmp_path
) -> None:
    missing = tmp_path / "typo.db"
    url = f"sqlite:///{missing}"
    verified = run_cli("--db-url", url, "cert", "verify", str(issued.json_path), "--json")
    assert verified.exit_code == 0, verified.stderr
    assert "no database at hand" in json.loads(verified.stdout)["checks"][-1]["detail"]
    assert "--db-url" in _one_error_line(run_cli("--db-url", url, "log", "verify"))
    assert not missing.exists()
