"""`asset-pipeline batch report`."""

from __future__ import annotations

import json
from pathlib import Path

from evidence_fixtures import load_device, scan_report, wipe_result

from asset_pipeline.evidence import issuing
from asset_pipeline.station.context import Station


def _sanitized_batch(station: Station, add_device) -> None:
    device_id = add_device()
    with station.session() as session:
        issuing.issue_sanitization_certificate(
            session,
            station,
            load_device(session, device_id),
            wipe_result=wipe_result(),
            pre_scan=None,
            post_scan=scan_report(),
        )


def test_json_report_on_stdout_verifies_as_saved(run_cli, station, add_device, tmp_path):
    _sanitized_batch(station, add_device)
    result = run_cli("batch", "report", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    saved = tmp_path / "report.json"
    saved.write_bytes(result.stdout_bytes)
    doc = json.loads(saved.read_text())
    assert doc["totals"] == {
        "devices": 1,
        "sanitized": 1,
        "destroyed": 0,
        "failed_pending": 0,
        "in_progress": 0,
    }
    assert run_cli("cert", "verify", str(saved)).exit_code == 0


def test_pdf_report_is_written_and_verifies(run_cli, station, add_device, tmp_path) -> None:
    _sanitized_batch(station, add_device)
    out = tmp_path / "b1.pdf"
    result = run_cli("batch", "report", "1", "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["pdf"].startswith(str(station.reports_dir))
    assert out.read_bytes() == Path(info["pdf"]).read_bytes()
    assert run_cli("cert", "verify", str(out)).exit_code == 0


def test_csv_report(run_cli, station, add_device) -> None:
    _sanitized_batch(station, add_device)
    lines = run_cli("batch", "report", "1", "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("device_id,model,serial")
    assert ",sanitized,Clear: Overwrite,SAN-" in lines[1]


def test_unknown_batch_is_one_line(run_cli, station) -> None:
    result = run_cli("batch", "report", "7")
    assert result.exit_code == 1
    assert result.stderr == "Error: no batch 7\n"
