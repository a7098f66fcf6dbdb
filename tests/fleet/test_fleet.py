"""Four stations, one PostgreSQL: 4 processes x 10 loop-device drives on one batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from starlette.testclient import TestClient

from asset_pipeline.evidence.batch_report import issue_batch_report
from asset_pipeline.evidence.heads import parse_head, signed_by
from asset_pipeline.evidence.return_report import issue_return_report
from asset_pipeline.evidence.signing import read_document
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.intake.reconcile import close
from asset_pipeline.storage import AuditEvent, Certificate, LatestHead, access, batches, stations
from asset_pipeline.storage.transactions import transaction
from asset_pipeline.web import create_app
from tests.conftest import needs_loop
from tests.fleet.fleet import (
    EVENTS,
    MiB,
    batch_devices,
    build_drives,
    check_certificates,
    device_events,
    make_fleet,
    outcomes,
    start_stations,
)
from tests.fleet.pgserver import PostgresServer

STATIONS, DRIVES = 4, 10


@needs_loop
def test_four_stations_process_one_batch_on_one_database(
    pg_server: PostgresServer, make_loop, tmp_path: Path
) -> None:
    fleet = make_fleet(tmp_path, pg_server.url, STATIONS, assets_per_station=DRIVES)
    build_drives(tmp_path, make_loop, fleet, DRIVES, 16 * MiB)
    results = outcomes(start_stations(fleet), timeout=1500)

    assert len(results) == STATIONS * DRIVES
    assert [r.get("error") for r in results if r.get("state") != "certified"] == []
    first = fleet.stations[0]
    with first.session() as session:
        devices = batch_devices(session, fleet.batch_id)
        assert len(devices) == STATIONS * DRIVES
        assert {d.state for d in devices} == {"certified"}
        # Each device's history, exactly once and in order: nothing lost, nothing twice.
        for device in devices:
            events = device_events(session, device.id)
            pipeline_events = [e for e in events if not e.startswith("custody.")]
            assert pipeline_events == EVENTS, device.id
            assert "custody.drive_removed" in events  # linked to the customer's asset
        # Every certificate verifies with its own station's registered key.
        per_station = check_certificates(session, fleet.batch_id)
        assert per_station == {st.config.station_id: DRIVES for st in fleet.stations}
        registered = {r.station_id: r.fingerprint for r in stations.list_keys(session)}
        for st in fleet.stations:
            assert registered[st.config.station_id] == st.key.fingerprint
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        assert events >= STATIONS * DRIVES * len(EVENTS)

    # The processing log verifies as a whole, read by an auditor from a copy-less URL.
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(tmp_path / "auditor"),
           "ASSET_PIPELINE_DB_URL": pg_server.url}  # fmt: skip
    verified = subprocess.run([sys.executable, "-m", "asset_pipeline", "log", "verify", "--json"],
                              env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["status"] == "ok"
    # Each station has its own Merkle tree, every certificate's signed head is consistent
    # with it, and each station's latest head (signed at its last commit) covers all of it.
    trees = json.loads(verified.stdout)["trees"]
    assert {st.config.station_id for st in fleet.stations} <= set(trees)
    assert json.loads(verified.stdout)["heads_checked"] >= STATIONS * DRIVES
    with first.session() as session:
        for st in fleet.stations:
            sid = st.config.station_id
            latest = session.get(LatestHead, sid)
            assert latest.tree_size == trees[sid]["size"] > len(EVENTS) * DRIVES
            head = parse_head(json.loads(latest.document), source=sid)
            assert head.key_fingerprint == st.key.fingerprint
            assert signed_by(head, st.key.public_key)

    # One station issues the batch report: it covers every station's devices, and each
    # certificate it names verifies with the key of the station that signed it.
    with first.session() as session:
        batch = batches.find_batch(session, fleet.batch_id)
        report = issue_batch_report(session, first, batch)
        close(session, first, batch)  # reconciles: every listed asset received and processed
        returned = issue_return_report(session, first, batch)
        token = access.issue_token(session, batch)
    assert verify_bytes(report.json_path.read_bytes(), first.key.public_key).ok
    with first.session() as session:  # its inclusion proof, against the stored tree
        checked = verify_bytes(report.json_path.read_bytes(), first.key.public_key,
                               session=session, station_id=first.config.station_id)  # fmt: skip
        assert {c.name: c.status for c in checked.checks}["audit"] == "ok", checked.checks
    rows = report.signed.document["devices"]
    assert len(rows) == STATIONS * DRIVES
    assert {r["outcome"] for r in rows} == {"sanitized"}
    signers = set()
    with first.session() as session:
        for row in rows:
            stored = session.scalar(
                select(Certificate.document).where(Certificate.cert_id == row["certificate_id"])
            )
            signed = read_document(stored.encode())
            key_row = stations.key_by_fingerprint(session, signed.key_fingerprint)
            assert verify_bytes(signed.data, stations.public_key_of(key_row)).ok
            signers.add(key_row.station_id)
    assert signers == {st.config.station_id for st in fleet.stations}

    # The return report answers the customer's list: every asset, its drive, and that drive's
    # certificate, whichever station issued it.
    assert verify_bytes(returned.json_path.read_bytes(), first.key.public_key).ok
    listed = returned.signed.document["assets"]
    assert len(listed) == STATIONS * DRIVES
    certified = {d["certificate_id"] for a in listed for d in a["drives"]}
    assert certified == {r["certificate_id"] for r in rows}

    # The customer's page, with the token, lists every station's devices.
    sessions = first.sessions()
    with TestClient(create_app(sessions)) as client:
        page = client.post("/reports", data={"token": token})
        assert page.status_code == 200
        assert page.text.count('href="/c/SAN-') == STATIONS * DRIVES
        assert report.report_id in page.text
        assert returned.report_id in page.text  # the return report, for download too
    with transaction(sessions) as session:
        assert access.batch_for_token(session, token).id == fleet.batch_id
