"""`asset-pipeline log verify|export`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from asset_pipeline.station.context import Station


def _one_error_line(result) -> str:
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_verify_ok_then_changed_row_fails_at_its_seq(run_cli, station: Station, add_device) -> None:
    add_device()
    add_device()
    ok = run_cli("log", "verify", "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "ok"
    assert json.loads(ok.stdout)["events"] == 2
    with sqlite3.connect(station.data_dir / "station.db") as db:
        db.execute("UPDATE audit_event SET operator = 'mallory' WHERE seq = 2")
    broken = run_cli("log", "verify", "--json")
    assert json.loads(broken.stdout)["broken_seq"] == 2
    assert _one_error_line(broken) == (
        "Error: log broken at event 2 (changed): event 2 does not match its hash "
        "(content changed)\n"
    )


def test_export_batch_as_jsonl_and_csv(run_cli, station: Station, add_device, tmp_path) -> None:
    add_device()
    add_device()  # another batch: not exported with batch 1
    lines = run_cli("log", "export", "--batch", "1").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == [1]
    assert events[0]["event_type"] == "device.registered"
    assert set(events[0]) >= {"hash", "prev_hash", "occurred_at", "station_id", "operator"}
    out = tmp_path / "log.csv"
    assert (
        run_cli("log", "export", "--batch", "2", "--format", "csv", "-o", str(out)).exit_code == 0
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["seq"] for r in rows] == ["2"]
    assert json.loads(rows[0]["payload"]) == {"serial": "WD-WCC6Y0000002"}


def test_export_unknown_batch_is_one_line(run_cli, station: Station) -> None:
    assert _one_error_line(run_cli("log", "export", "--batch", "99")) == "Error: no batch 99\n"


def test_verify_on_empty_station(run_cli, station_home: Path) -> None:
    nothing = run_cli("log", "verify", "--json")  # no station: nothing to vouch for, nothing made
    assert nothing.exit_code == 1
    assert nothing.stderr.startswith("Error: no station database here")
    assert not station_home.exists()
    assert run_cli("init").exit_code == 0
    result = run_cli("log", "verify", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["events"] == 0


def test_checkpoint_signs_the_current_head_and_anchors_verify(
    run_cli, station: Station, add_device, tmp_path
) -> None:
    add_device()
    out = run_cli("log", "checkpoint")
    assert out.exit_code == 0, out.stderr
    head = json.loads(out.stdout)
    assert head["schema"] == "asset-pipeline/tree-head"
    assert (head["station_id"], head["tree_size"]) == (station.config.station_id, 1)
    assert head["key_fingerprint"] == station.key.fingerprint
    held = tmp_path / "cp.json"
    held.write_text(out.stdout)
    add_device()
    verified = run_cli("log", "verify", "--anchor", str(held), "--json")
    assert verified.exit_code == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["trees"][station.config.station_id]["size"] == 2
    assert report["anchors"] == 1
    not_a_head = tmp_path / "x.json"
    not_a_head.write_text('{"schema": "something-else"}')
    bad = run_cli("log", "verify", "--anchor", str(not_a_head))
    assert _one_error_line(bad) == ("Error: anchor x.json carries neither a tree head nor a seal\n")
