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
