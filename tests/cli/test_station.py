"""`asset-pipeline station list|retire`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from asset_pipeline.storage import sqlite_url


def _cli(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(home), "ASSET_PIPELINE_DB_URL": url}
    return subprocess.run([sys.executable, "-m", "asset_pipeline", *args],
                          env=env, capture_output=True, text=True, check=False)  # fmt: skip


def test_list_and_retire(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a, b = tmp_path / "a", tmp_path / "b"
    assert _cli(a, url, "init", "--station-id", "bench-a").returncode == 0
    assert _cli(b, url, "init", "--station-id", "bench-b").returncode == 0
    listed = json.loads(_cli(a, url, "station", "list", "--json").stdout)
    assert [(r["station_id"], r["status"]) for r in listed] == [
        ("bench-a", "active"),
        ("bench-b", "active"),
    ]
    key_a = json.loads(_cli(a, url, "key", "export", "--json").stdout)
    assert listed[0]["fingerprint"] == key_a["fingerprint"]
    assert listed[0]["public_key_pem"] == key_a["public_key_pem"]

    retired = _cli(b, url, "station", "retire", "bench-a", "--reason", "laptop stolen", "--json")
    assert retired.returncode == 0, retired.stderr
    row = json.loads(retired.stdout)
    assert (row["status"], row["retired_reason"]) == ("retired", "laptop stolen")
    refused = _cli(a, url, "batch", "list")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: station bench-a's key ")
    assert refused.stderr.count("\n") == 1
    assert "laptop stolen" in refused.stderr
    events = _cli(b, url, "log", "verify", "--json")
    assert events.returncode == 0, events.stderr


def test_retire_unknown_station(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    result = _cli(tmp_path / "a", url, "station", "retire", "nobody", "--reason", "x")
    assert result.returncode == 1
    assert result.stderr == "Error: no station nobody with an active key\n"


def test_a_station_that_lost_its_key_must_retire_the_old_one(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    home = tmp_path / "a"
    assert _cli(home, url, "init", "--station-id", "bench-a").returncode == 0
    # --force gives the station a new id and keeps its key: the registry follows it.
    forced = _cli(home, url, "init", "--force", "--station-id", "bench-x", "--json")
    assert json.loads(forced.stdout)["station_id"] == "bench-x"
    rows = json.loads(_cli(home, url, "station", "list", "--json").stdout)
    assert [r["station_id"] for r in rows] == ["bench-x"]
    assert _cli(home, url, "init", "--force", "--station-id", "bench-a").returncode == 0
    (home / "station_key.pem").unlink()
    (home / "station_key.pub.pem").unlink()
    refused = _cli(home, url, "batch", "list")
    assert refused.returncode == 1
    assert "station id bench-a is registered with another key" in refused.stderr
    retired = _cli(tmp_path / "b", url, "station", "retire", "bench-a", "--reason", "key lost")
    assert retired.returncode == 0, retired.stderr
    assert _cli(home, url, "batch", "list").returncode == 0
    rows = json.loads(_cli(home, url, "station", "list", "--json").stdout)
    mine = [(r["status"], r["fingerprint"]) for r in rows if r["station_id"] == "bench-a"]
    assert [status for status, _ in mine] == ["retired", "active"]
    assert mine[0][1] != mine[1][1]
