"""Stations whose database connection is cut mid-device, or whose server restarts."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from sqlalchemy import select

from asset_pipeline.evidence.audit_check import certificate_anchors, verify_chain
from asset_pipeline.storage import AuditEvent, Certificate
from tests.conftest import needs_loop
from tests.fleet.fleet import (
    EVENTS,
    MiB,
    batch_devices,
    build_drives,
    check_certificates,
    check_history,
    make_fleet,
    outcomes,
    start_stations,
)
from tests.fleet.pgserver import PostgresServer


class Cutter(threading.Thread):
    """Terminates one station's connections at random moments until stopped."""

    def __init__(self, server: PostgresServer, station_id: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.pattern = server, f"asset-pipeline {station_id}"
        self.random = random.Random(seed)
        self.halt = threading.Event()
        self.cuts = 0

    def run(self) -> None:
        while not self.halt.wait(self.random.uniform(0.2, 1.2)):
            self.cuts += self.server.terminate(self.pattern)


def _check_evidence(fleet, certified: list[int]) -> None:
    station = fleet.stations[0]
    with station.session() as session:
        devices = batch_devices(session, fleet.batch_id)
        for device in devices:
            events = check_history(session, device)  # none lost, none twice
            if device.state == "certified":
                assert events.count("certificate.issued") == 1
                assert events[-3:] == EVENTS[-3:]
            else:
                assert device.state == "failed", (device.id, device.state)
                assert device.state_reason, device.id
                assert "certificate.issued" not in events
        check_certificates(session, fleet.batch_id)
        # No certificate without its events: each stored one has its closing and issued events.
        for cert in session.scalars(select(Certificate).where(Certificate.kind == "sanitization")):
            issued = session.scalars(
                select(AuditEvent.payload).where(AuditEvent.event_type == "certificate.issued",
                                                 AuditEvent.device_id == cert.device_id)
            ).all()  # fmt: skip
            assert [p["certificate_id"] for p in issued] == [cert.cert_id]
        stored = set(session.scalars(select(Certificate.cert_id)))
        report = verify_chain(session, anchors=certificate_anchors(session))
        assert report.ok, report.broken
    # No certificate file without its row (a transaction cut at COMMIT leaves no orphan).
    for st in fleet.stations:
        files = {p.stem for p in st.certificates_dir.glob("*.json")}
        assert files <= stored, files - stored
    assert len(certified) == sum(1 for d in devices if d.state == "certified")


@needs_loop
def test_connections_cut_mid_device_are_survived(
    pg_server: PostgresServer, make_loop, tmp_path: Path
) -> None:
    fleet = make_fleet(tmp_path, pg_server.url, 2)
    build_drives(tmp_path, make_loop, fleet, 4, 16 * MiB)
    victim = fleet.stations[1].config.station_id
    cutter = Cutter(pg_server, victim, seed=17)
    procs = start_stations(fleet)
    cutter.start()
    try:
        results = outcomes(procs, timeout=1200)
    finally:
        cutter.halt.set()
        cutter.join()
    assert cutter.cuts > 0
    assert len(results) == 8
    assert [r for r in results if "error" in r] == []  # every device ended, none crashed
    certified = [r["device_id"] for r in results if r["state"] == "certified"]
    for r in results:
        if r["state"] != "certified":
            assert "database connection" in r["reason"], r
    assert len(certified) >= 4  # the other station never lost a device
    _check_evidence(fleet, certified)


def _started(server: PostgresServer, batch_id: int) -> int:
    rows = server.admin(f"SELECT count(*) FROM device WHERE batch_id = {batch_id}")
    return int(rows[0][0])


@needs_loop
def test_a_server_restart_mid_batch_is_waited_for(
    pg_server: PostgresServer, make_loop, tmp_path: Path
) -> None:
    fleet = make_fleet(tmp_path, pg_server.url, 2)
    build_drives(tmp_path, make_loop, fleet, 3, 16 * MiB)
    procs = start_stations(fleet)
    deadline = time.monotonic() + 300
    while _started(pg_server, fleet.batch_id) < 2:  # both stations are mid-device
        assert time.monotonic() < deadline
        time.sleep(0.2)
    pg_server.stop()
    time.sleep(4)
    pg_server.start()
    results = outcomes(procs, timeout=1200)
    assert len(results) == 6
    assert [r for r in results if "error" in r] == []
    certified = [r["device_id"] for r in results if r["state"] == "certified"]
    assert len(certified) == 6, [(r["state"], r["reason"]) for r in results]
    _check_evidence(fleet, certified)
