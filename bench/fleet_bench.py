"""A fleet on one PostgreSQL: log appends and certificates per second, 1 station against 4.

Each station is its own process with its own data directory, id and key, registered in the
database as in a real fleet. The timed span starts when every process has connected and says
so, and ends when the last one finishes. Measured:

- `events`: audit events appended per second, one event per transaction (as the pipeline
  writes one per state change), by 1 and by 4 stations at once;
- `inserts`: the same rows as plain INSERTs in the same transactions (no log structure), the
  reference that shows what the log itself costs on this server;
- `certificates`: certificates of sanitization issued per second (device row, closing event,
  signed JSON, PDF written, certificate event), by 1 and by 4 stations.

The server is started for the run (initdb + pg_ctl in a temp directory, fsync on, as a
station's server would run) unless `--db-url` names one.

    python bench/fleet_bench.py [--quick] [--db-url URL]

Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fleet.pgserver import PostgresServer, pg_bindir  # noqa: E402

WORKER = r"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from asset_pipeline.evidence import audit, issuing
from asset_pipeline.station.config import StationConfig
from asset_pipeline.station.context import Station
from asset_pipeline.storage import AuditEvent, batches, utcnow
from sqlalchemy import insert
from tests.evidence_fixtures import PRE_FINDINGS, drive, register_device, scan_report, wipe_result

root, url, mode, n, batch_id, go, ready = sys.argv[1:8]
n, batch_id = int(n), int(batch_id)
home = Path(ready).with_suffix("")
station = Station(data_dir=home, db_url=url)
station.initialize(StationConfig(station_id=home.name, organization="Bench AB", operator="op"))
sid = station.config.station_id
Path(ready).touch()  # connected and registered: the timed span starts after this
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    with station.session() as s:
        if mode == "events":
            audit.append_event(s, station_id=sid, operator="op", event_type="bench.step",
                               payload={"i": i, "bytes": 1 << 30, "method": "aes-ctr"})
        elif mode == "inserts":
            s.execute(insert(AuditEvent).values(
                seq=-(os.getpid() * 100000 + i), occurred_at=utcnow(), station_id=sid,
                operator="op", event_type="bench.step",
                payload={"i": i, "bytes": 1 << 30, "method": "aes-ctr"}, prev_hash="", hash=""))
        else:
            batch = batches.find_batch(s, batch_id)
            device = register_device(s, batch, drive(f"{sid}-{i:06d}"))
            issuing.issue_sanitization_certificate(
                s, station, device, wipe_result=wipe_result(),
                pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report())
station.close()
"""


def run(url: str, work: Path, mode: str, stations: int, per_station: int, batch_id: int) -> float:
    """Operations per second for `stations` processes doing `per_station` each."""
    tag = f"{mode}-{stations}-{time.monotonic_ns()}"
    go = work / f"{tag}.go"
    readies = [work / f"st-{tag}-{k}.ready" for k in range(stations)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(ROOT),
                url,
                mode,
                str(per_station),
                str(batch_id),
                str(go),
                str(ready),
            ],
            env=env,
        )  # fmt: skip
        for ready in readies
    ]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in readies):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            raise SystemExit(f"{mode}: a station did not start")
        time.sleep(0.01)
    started = time.perf_counter()
    go.touch()
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - started
    if any(codes):
        raise SystemExit(f"{mode}: a station failed ({codes})")
    return stations * per_station / elapsed


def open_batch(url: str, work: Path) -> int:
    from asset_pipeline.station.config import StationConfig
    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import batches, operators

    st = Station(data_dir=work / "coordinator", db_url=url)
    st.initialize(StationConfig(station_id="coordinator", organization="Bench AB", operator="op"))
    with st.session() as session:
        operators.add_operator(session, "op", title="Tekniker", contact="bench@example.se")
        customer = batches.add_customer(session, "Bench kund")
        agreement = batches.add_agreement(session, customer=customer, reference="DPA-BENCH",
                                          required_level="clear", discovery_instructed=True,
                                          retention_years=7)  # fmt: skip
        batch_id = batches.open_batch(session, agreement).id
    st.close()
    return batch_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--db-url", default=None, help="use this server instead of starting one")
    args = parser.parse_args()
    events, certs, rounds = (200, 10, 1) if args.quick else (500, 20, 3)
    server = None
    if args.db_url is None:
        bindir = pg_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL is not installed (Debian package postgresql)")
        server = PostgresServer(bindir, fsync=True)
    url = args.db_url or server.url
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ap-fleet-bench-") as tmp:
            work = Path(tmp)
            batch_id = open_batch(url, work)
            plan = [("inserts", events), ("events", events), ("certificates", certs)]
            for mode, n in plan:
                for stations in (1, 4):
                    rates = [run(url, work, mode, stations, n, batch_id) for _ in range(rounds)]
                    results.setdefault(mode, {})[f"stations_{stations}"] = round(
                        statistics.median(rates), 1
                    )
    finally:
        if server is not None:
            server.close()
    for mode, r in results.items():
        scale = r["stations_4"] / r["stations_1"]
        print(f"{mode:12s} 1 station {r['stations_1']:8.1f}/s   4 stations {r['stations_4']:8.1f}/s"
              f"   (x{scale:.2f})")  # fmt: skip
    for n in (1, 4):
        share = results["events"][f"stations_{n}"] / results["inserts"][f"stations_{n}"]
        print(f"log appends at {n} station(s): {share:.2f} of plain inserts' rate")
    print(f"medians of {rounds} round(s); {os.cpu_count()} cores, machine shared")
    print(json.dumps({"bench": "fleet", "quick": args.quick, "events_per_station": events,
                      "certificates_per_station": certs, **results}))  # fmt: skip


if __name__ == "__main__":
    main()
