"""`asset-pipeline init` creates the key; `key export` publishes it."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from asset_pipeline.station import keys


def test_init_creates_key_and_stays_idempotent(run_cli, station_home: Path) -> None:
    first = run_cli("init", "--organization", "Återbruk AB", "--json")
    assert first.exit_code == 0, first.stderr
    created = json.loads(first.stdout)
    key_file = station_home / keys.PRIVATE_KEY_NAME
    assert created["key"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    again = json.loads(run_cli("init", "--json").stdout)
    assert again["status"] == "exists"
    assert again["key_fingerprint"] == created["key_fingerprint"]
    forced = json.loads(run_cli("init", "--force", "--json").stdout)
    assert forced["key_fingerprint"] == created["key_fingerprint"]  # --force keeps the key
    assert key_file.read_bytes() == pem


def test_init_gives_an_old_station_without_key_a_key(run_cli, station_home: Path) -> None:
    run_cli("init")
    (station_home / keys.PRIVATE_KEY_NAME).unlink()
    (station_home / keys.PUBLIC_KEY_NAME).unlink()
    # A station from before keys had no key in the registry either (a station that lost a
    # registered key must retire it first: see tests/cli/test_station.py).
    with sqlite3.connect(station_home / "station.db") as db:
        db.execute("DELETE FROM station_key")
    result = run_cli("init", "--json")
    assert json.loads(result.stdout)["status"] == "exists"
    assert (station_home / keys.PRIVATE_KEY_NAME).exists()


def test_key_export_prints_pem_and_fingerprint(run_cli, station_home: Path, tmp_path) -> None:
    fingerprint = json.loads(run_cli("init", "--json").stdout)["key_fingerprint"]
    data = json.loads(run_cli("key", "export", "--json").stdout)
    assert data["fingerprint"] == fingerprint
    assert data["algorithm"] == "Ed25519"
    text = run_cli("key", "export", "-o", str(tmp_path / "pub.pem"))
    assert f"Fingerprint (SHA-256 of the Ed25519 key): {fingerprint}" in text.stdout
    for pem in (text.stdout.encode(), (tmp_path / "pub.pem").read_bytes()):
        assert keys.fingerprint(load_pem_public_key(pem)) == fingerprint
