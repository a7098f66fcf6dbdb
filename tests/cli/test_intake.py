"""`asset-pipeline intake import|receive|list|release` and `batch reconcile|close|return-report`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from intake_lists import HEADER, ROWS, csv_bytes, xlsx_bytes
from sqlalchemy import select

from asset_pipeline.station.context import Station
from asset_pipeline.storage import Device

MiB = 1 << 20


@pytest.fixture
def batch(run_cli) -> str:
    run_cli("customer", "add", "Åre kommun", "--org-number", "212000-2411")
    run_cli("agreement", "add", "PUB-7", "--customer", "Åre kommun", "--level", "clear")
    run_cli("batch", "open", "--agreement", "PUB-7", "--order", "PO-4711")
    return "1"


@pytest.fixture
def listed(run_cli, batch, tmp_path: Path) -> str:
    path = tmp_path / "tillgangar.csv"
    path.write_bytes(csv_bytes(encoding="cp1252"))
    result = run_cli("intake", "import", batch, str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return batch


def test_import_reports_dropped_columns_on_stderr_and_the_result_as_json(run_cli, batch, tmp_path):
    path = tmp_path / "lista.xlsx"
    path.write_bytes(xlsx_bytes())
    result = run_cli("intake", "import", batch, str(path), "--json")
    assert result.exit_code == 0
    assert result.stderr == (
        "dropped column 'Användare': the header names a person\n"
        "dropped column 'E-post': the header names e-mail\n"
    )
    data = json.loads(result.stdout)
    assert (data["file_format"], data["created"], data["kept"]) == (
        "xlsx", 3, ["Kostnadsställe", "Placering"],
    )  # fmt: skip
    assert "anna.svensson" not in result.stdout + result.stderr


def test_a_column_of_email_addresses_under_a_plain_header_is_refused(run_cli, batch, tmp_path):
    rows = [[*row[:5], f"user{n}@kommunen.example.se"] for n, row in enumerate(ROWS)]
    path = tmp_path / "lista.csv"
    path.write_bytes(csv_bytes([*HEADER[:5], "Övrigt"], rows))
    result = run_cli("intake", "import", batch, str(path))
    assert result.exit_code == 0
    assert result.stderr == "dropped column 'Övrigt': 3 of 3 values look like email\n"
    assert "kommunen.example.se" not in result.stdout


def test_an_unreadable_list_is_one_error_line(run_cli, batch, tmp_path):
    path = tmp_path / "lista.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = run_cli("intake", "import", batch, str(path))
    assert (result.exit_code, result.stderr) == (
        1, "Error: old Excel (.xls) files are not read; save the list as .xlsx or CSV\n",
    )  # fmt: skip


def test_barcodes_typed_through_stdin(run_cli, listed):
    typed = "INV-0001\n\n c02xk0abjgh5\r\nOKÄND-77\nanna.svensson@example.se\nINV-0001\n"
    result = run_cli("intake", "receive", listed, "--json", input=typed)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["code"], r["status"], r["asset_tag"]) for r in lines] == [
        ("INV-0001", "received", "INV-0001"),
        ("c02xk0abjgh5", "received", "INV-0002"),
        ("OKÄND-77", "unexpected", "OKÄND-77"),
        ("INV-0001", "already_received", "INV-0001"),
    ]
    assert result.exit_code == 1
    assert result.stderr == (
        "refused: the scanned code looks like an e-mail address, not an asset tag or serial; "
        "nothing was recorded\nError: 1 of 5 scans were refused\n"
    )


def test_receive_by_tag_with_a_condition_and_the_list(run_cli, listed):
    result = run_cli("intake", "receive", listed, "--tag", "INV-0003", "--condition", "damaged")
    assert result.exit_code == 0
    assert "INV-0003" in result.stdout
    assert result.stderr == "received: INV-0003 Lenovo ThinkCentre M720\n"
    rows = json.loads(run_cli("intake", "list", listed, "--json").stdout)
    assert [(r["asset_tag"], r["status"], r["condition"], r["on_list"]) for r in rows] == [
        ("INV-0001", "missing", "", True),
        ("INV-0002", "missing", "", True),
        ("INV-0003", "received", "damaged", True),
    ]


def test_the_operator_named_on_the_command_is_on_the_custody_steps(run_cli, listed):
    for args in (("receive", listed, "--tag", "INV-0001"),
                 ("release", listed, "INV-0001", "--to", "recycle", "--no-storage")):  # fmt: skip
        result = run_cli("intake", *args, "--operator", "Lena Holm")
        assert result.exit_code == 0, result.stderr
    report = json.loads(run_cli("batch", "return-report", listed, "--format", "json").stdout)
    (asset,) = [a for a in report["assets"] if a["asset_tag"] == "INV-0001"]
    assert [(c["step"], c["operator"]) for c in asset["custody"]] == [
        ("received", "Lena Holm"), ("released", "Lena Holm"),
    ]  # fmt: skip


def test_dmi_and_tag_clash(run_cli, listed):
    result = run_cli("intake", "receive", listed, "--dmi", "--tag", "X")
    assert result.exit_code == 2
    assert "--dmi cannot be used with --tag" in result.stderr


def test_reconcile_close_and_return_report(run_cli, listed, tmp_path):
    run_cli("intake", "receive", listed, "--tag", "INV-0001", "--tag", "INV-0002",
            "--tag", "OKÄND-77")  # fmt: skip
    rec = json.loads(run_cli("batch", "reconcile", listed, "--json").stdout)
    assert {k: rec["counts"][k] for k in ("expected", "received", "missing", "unexpected")} == {
        "expected": 3, "received": 3, "missing": 1, "unexpected": 1,
    }  # fmt: skip
    assert [a["asset_tag"] for a in rec["missing"]] == ["INV-0003"]
    refused = run_cli("batch", "close", listed)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: batch 1 cannot close: 1 listed asset(s) not received: INV-0003. Finish them, "
        "or close anyway with --force --reason TEXT\n",
    )
    no_reason = run_cli("batch", "close", listed, "--force")
    assert no_reason.exit_code == 2
    assert "--force needs --reason TEXT" in no_reason.stderr
    closed = run_cli("batch", "close", listed, "--force", "--reason", "INV-0003 saknas", "--json")
    assert json.loads(closed.stdout)["close_reason"] == "INV-0003 saknas"
    late = run_cli("intake", "receive", listed, "--tag", "INV-0003")
    assert (late.exit_code, late.stderr) == (
        1, "Error: batch 1 is closed; it takes no more assets\n",
    )  # fmt: skip
    signed = run_cli("batch", "return-report", listed, "--format", "json")
    document = json.loads(signed.stdout)
    assert document["batch"]["close_reason"] == "INV-0003 saknas"
    assert document["reconciliation"]["missing"] == ["INV-0003"]
    saved = tmp_path / "aterrapport.json"
    saved.write_text(signed.stdout, encoding="utf-8")
    verified = run_cli("cert", "verify", str(saved), "--json")
    assert verified.exit_code == 0, verified.stdout
    assert json.loads(verified.stdout)["kind"] == "return_report"
    pdf = tmp_path / "aterrapport.pdf"
    out = run_cli("batch", "return-report", listed, "-o", str(pdf), "--json")
    assert json.loads(out.stdout)["output"] == str(pdf)
    assert run_cli("cert", "verify", str(pdf)).exit_code == 0
    rows = run_cli("batch", "return-report", listed, "--format", "csv").stdout.splitlines()
    assert rows[0].endswith("drive_outcomes,Kostnadsställe,Placering")


def test_release_needs_a_processed_drive_or_no_storage(run_cli, listed):
    run_cli("intake", "receive", listed, "--tag", "INV-0001")
    refused = run_cli("intake", "release", listed, "INV-0001", "--to", "refurbish")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: no drive of asset INV-0001 was processed")
    done = run_cli("intake", "release", listed, "INV-0001", "--to", "recycle", "--no-storage",
                   "--json")  # fmt: skip
    assert json.loads(done.stdout)["destination"] == "recycle"
    unknown = run_cli("intake", "release", listed, "INV-9999", "--to", "destroy")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: no asset INV-9999 in batch 1\n")


def _kill_while_sanitizing(home: Path, image: Path, batch: str, asset: str) -> None:
    """Run `process --asset` in a subprocess and SIGKILL it once its drive is being wiped."""
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "process", str(image), "--batch", batch,
         "--asset", asset, "--yes"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    station = Station(data_dir=home)
    try:
        deadline = time.monotonic() + 120
        while True:
            with station.session() as session:
                states = list(session.scalars(select(Device.state)))
            if "sanitizing" in states:
                break
            assert proc.poll() is None, "process ended before its wipe could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        station.close()


def test_a_shipment_from_list_to_return_report(run_cli, listed, station_home, tmp_path):
    """One asset missing, one unexpected, one drive certified, one killed mid-wipe, the batch
    closed by force, the killed drive resumed (failed: the batch is closed) and destroyed."""
    # A station that may certify: a real organisation, its operator registered.
    assert run_cli("init", "--organization", "Återbruk Norrland AB", "--org-number",
                   "556677-8899", "--site", "Sundsvall", "--operator", "Örjan Ekström",
                   ).exit_code == 0  # fmt: skip
    assert run_cli("operator", "add", "Örjan Ekström", "--title", "Tekniker", "--contact",
                   "orjan.ekstrom@aterbruk.example").exit_code == 0  # fmt: skip
    typed = "INV-0001\nINV-0002\nOKÄND-77\n"
    assert run_cli("intake", "receive", listed, input=typed).exit_code == 0
    small, large = tmp_path / "inv1-ssd.img", tmp_path / "inv2-hdd.img"
    for image, size in ((small, 16 * MiB), (large, 2048 * MiB)):  # the large one's wipe lasts
        image.touch()  # long enough to be killed in
        os.truncate(image, size)

    done = run_cli("process", str(small), "--batch", listed, "--asset", "inv-0001", "--yes",
                   "--json")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    certified = json.loads(done.stdout)
    assert (certified["state"], certified["asset_tag"]) == ("certified", "INV-0001")
    cert = json.loads(Path(certified["certificate_json"]).read_bytes())
    assert cert["media"]["property_number"] == "INV-0001"  # the certificate names the asset
    assert cert["media_source"]["asset"]["asset_tag"] == "INV-0001"
    assert cert["media_source"]["source_machine"] == "HP EliteBook 840 G5, serial 5CG1234XYZ"

    unknown = run_cli("process", str(small), "--batch", listed, "--asset", "INV-9", "--yes")
    assert (unknown.exit_code, unknown.stderr) == (
        1, "Error: no asset INV-9 in batch 1 (receive it first: intake receive 1 --tag INV-9)\n",
    )  # fmt: skip

    _kill_while_sanitizing(station_home, large, listed, "INV-0002")
    rec = json.loads(run_cli("batch", "reconcile", listed, "--json").stdout)
    assert [d["asset_tag"] for d in rec["in_pipeline"]] == ["INV-0002"]
    assert [a["asset_tag"] for a in rec["missing"]] == ["INV-0003"]
    assert [a["asset_tag"] for a in rec["unexpected"]] == ["OKÄND-77"]
    refused = run_cli("batch", "close", listed)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "Error: batch 1 cannot close: 1 device(s) mid-pipeline: device 2 (sanitizing); "
        "1 listed asset(s) not received: INV-0003."
    )
    reason = "INV-0003 never arrived; customer informed"
    assert run_cli("batch", "close", listed, "--force", "--reason", reason).exit_code == 0

    resumed = run_cli("resume", "--json")
    assert resumed.exit_code == 1
    outcome = json.loads(resumed.stdout)
    assert (outcome["device_id"], outcome["state"], outcome["reason"]) == (
        2, "failed", f"batch 1 was closed: {reason}",
    )  # fmt: skip
    destroyed = run_cli("cert", "destroy", "2", "--method", "shred", "--date", "2026-01-05",
                        "--witness", "Kim Berg")  # fmt: skip
    assert destroyed.exit_code == 0, destroyed.stderr
    for tag, destination in (("INV-0001", "refurbish"), ("INV-0002", "recycle")):
        released = run_cli("intake", "release", listed, tag, "--to", destination)
        assert released.exit_code == 0, released.stderr

    report = json.loads(run_cli("batch", "return-report", listed, "--format", "json").stdout)
    assert report["totals"] == {
        "expected": 3, "received": 3, "missing": 1, "unexpected": 1, "released": 2,
        "drives": 2, "processed": 2, "certified": 1, "destroyed": 1, "failed": 0,
        "in_pipeline": 0, "drives_without_asset": 0,
    }  # fmt: skip
    first, second, missing, unexpected = report["assets"]
    assert [(d["outcome"], d["certificate_id"][:4]) for d in first["drives"]] == [
        ("certified", "SAN-")
    ]
    assert [(d["outcome"], d["method"]) for d in second["drives"]] == [
        ("destroyed", {"method": "Destroy", "technique": "shred"})
    ]
    assert [c["step"] for c in second["custody"]] == [
        "received", "drive_removed", "drive_processed", "drive_processed", "released",
    ]  # fmt: skip
    assert [c["detail"].get("outcome") for c in second["custody"][2:4]] == ["failed", "destroyed"]
    assert second["custody"][2]["detail"]["reason"] == f"batch 1 was closed: {reason}"
    assert (second["destination"], missing["status"], unexpected["on_list"]) == (
        "recycle", "missing", False,
    )  # fmt: skip
    assert report["batch"]["close_reason"] == reason
    assert run_cli("log", "verify").exit_code == 0


@pytest.mark.skipif(Path("/sys/class/dmi/id").exists(), reason="this machine has SMBIOS/DMI")
def test_asset_dmi_where_there_is_no_smbios(run_cli, listed, tmp_path):
    image = tmp_path / "d.img"
    image.touch()
    os.truncate(image, 8 * MiB)
    result = run_cli("process", str(image), "--batch", listed, "--asset-dmi", "--yes")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no SMBIOS/DMI information at /sys/class/dmi/id: is this the asset itself?\n",
    )  # fmt: skip
    clash = run_cli("process", str(image), "--batch", listed, "--asset", "X", "--asset-dmi")
    assert clash.exit_code == 2
    assert "--asset cannot be used with --asset-dmi" in clash.stderr
