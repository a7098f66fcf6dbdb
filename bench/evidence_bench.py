"""Evidence costs: audit appends (one and two processes) against plain inserts, chain
verification, certificate issuing (JSON + PDF) and verification, and the Merkle log's costs
at 1k and 100k leaves (append, seal, issue, inclusion and consistency proofs, the stored-log
check of a certificate) that must stay O(log n).

Every append is its own transaction, as in the pipeline (one event per state change). The
reference is a plain INSERT of the same row in the same kind of transaction, so the ratio is
the cost of the chain (lock, head read, canonical hash, privacy screen).

    python bench/evidence_bench.py [--quick]

Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert, select

from asset_pipeline.evidence import audit, heads, issuing, log_tree, merkle
from asset_pipeline.evidence.audit_check import verify_chain
from asset_pipeline.evidence.verify import stored_tree_problem, verify_bytes
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import (
    AuditEvent,
    LogNode,
    batches,
    devices,
    open_database,
    operators,
    sqlite_url,
    utcnow,
)

# The checkout itself too: tests/wipe (no __init__) would otherwise shadow the wipe package
# under an editable install, whose finder is asked only after sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from evidence_fixtures import PRE_FINDINGS, drive, scan_report, wipe_result  # noqa: E402

WORKER = """
import sys, time
from asset_pipeline.evidence import audit
from asset_pipeline.storage import open_database
url, n, go, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sessions = open_database(url)
import os
open(ready, "w").close()  # imported and connected: the timed span starts after this
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    with sessions.begin() as s:
        audit.append_event(s, station_id="bench", operator="op", event_type="bench.step",
                           payload={"i": i, "bytes": 1 << 30, "method": "aes-ctr"})
"""


def appends(url: str, n: int) -> float:
    sessions = open_database(url)
    start = time.perf_counter()
    for i in range(n):
        with sessions.begin() as s:
            audit.append_event(
                s,
                station_id="bench",
                operator="op",
                event_type="bench.step",
                payload={"i": i, "bytes": 1 << 30, "method": "aes-ctr"},
            )
    return n / (time.perf_counter() - start)


def plain_inserts(url: str, n: int) -> float:
    sessions = open_database(url)
    start = time.perf_counter()
    for i in range(n):
        with sessions.begin() as s:
            s.execute(
                insert(AuditEvent).values(
                    seq=10_000_000 + i,
                    occurred_at=utcnow(),
                    station_id="bench",
                    operator="op",
                    event_type="bench.step",
                    payload={"i": i, "bytes": 1 << 30, "method": "aes-ctr"},
                    prev_hash="",
                    hash="",
                )
            )
    return n / (time.perf_counter() - start)


def two_processes(url: str, n: int, work: Path) -> float:
    open_database(url).kw["bind"].dispose()  # migrated here, so the workers only connect
    go = work / "go"
    ready = [work / f"ready{i}" for i in range(2)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, url, str(n), str(go), str(r)])
        for r in ready
    ]
    while not all(r.exists() for r in ready):  # start-up is not part of the append rate
        if any(p.poll() is not None for p in procs):
            raise SystemExit("worker failed")
        time.sleep(0.01)
    start = time.perf_counter()
    go.touch()
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("worker failed")
    return 2 * n / (time.perf_counter() - start)


def _bench_station(data_dir: Path) -> Station:
    """A station with a real organisation and its operator `bench` (issuing requires both)."""
    station = Station(data_dir=data_dir)
    station.initialize(new_config("Bench AB", "bench", org_number="556677-8899", site="Umeå"))
    with station.session() as s:
        operators.add_operator(s, "bench", title="Technician", contact="bench@example.se")
    return station


def _open_bench_batch(s):  # noqa: ANN001, ANN202
    """A customer, its agreement and an open batch."""
    customer = batches.add_customer(s, "Åre kommun", "212000-2411")
    agreement = batches.add_agreement(
        s,
        customer=customer,
        reference="PUB-1",
        required_level="clear",
        discovery_instructed=True,
        retention_years=7,
    )
    return batches.open_batch(s, agreement)


def certificate_costs(work: Path, n: int) -> dict[str, float]:
    station = _bench_station(work / "station")
    with station.session() as s:
        batch = _open_bench_batch(s)
        ids = [devices.new_device(s, batch, drive(f"S{i}")).id for i in range(n)]
    issued = []
    start = time.perf_counter()
    for device_id in ids:
        with station.session() as s:
            issued.append(
                issuing.issue_sanitization_certificate(
                    s,
                    station,
                    devices.find_device(s, device_id),
                    wipe_result=wipe_result(),
                    pre_scan=scan_report(PRE_FINDINGS),
                    post_scan=scan_report(),
                )
            )
    issue_s = (time.perf_counter() - start) / n
    key = station.key.public_key
    start = time.perf_counter()
    for cert in issued:
        assert verify_bytes(cert.signed.data, key).ok
    json_s = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for cert in issued:
        assert verify_bytes(cert.pdf_path.read_bytes(), key).ok
    pdf_s = (time.perf_counter() - start) / n
    accepted = flips_accepted(issued[0].pdf_path.read_bytes(), issued[0].signed.data, key)
    station.close()
    return {
        "issue_ms": issue_s * 1000,
        "verify_json_ms": json_s * 1000,
        "verify_pdf_ms": pdf_s * 1000,
        "pdf_flips_accepted_of_100": accepted,
    }


def flips_accepted(pdf: bytes, attached: bytes, key, flips: int = 100, seed: int = 13) -> int:  # noqa: ANN001
    """How many of `flips` single random byte changes outside the attached JSON still verify."""
    rng = random.Random(seed)
    start = pdf.index(attached)
    outside = [*range(start), *range(start + len(attached), len(pdf))]
    accepted = 0
    for _ in range(flips):
        data = bytearray(pdf)
        data[rng.choice(outside)] ^= rng.randrange(1, 256)
        with contextlib.suppress(Exception):  # any refusal counts as caught
            accepted += verify_bytes(bytes(data), key).ok
    return accepted


def _station_with_leaves(work: Path, leaves: int) -> tuple[Station, int]:
    """A station whose log already holds `leaves` events (bulk-built as appends would)."""
    station = _bench_station(work / f"tree{leaves}")
    sid = station.config.station_id
    with station.session() as s:
        batch_id = _open_bench_batch(s).id
        start = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0
        first = log_tree.tree_size(s, sid)
        prev = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == start)) or audit.GENESIS
        rows, now = [], utcnow()
        for i in range(leaves - first):
            event = AuditEvent(
                seq=start + 1 + i,
                occurred_at=now,
                station_id=sid,
                operator="op",
                event_type="bench.step",
                payload={"i": i},
                prev_hash=prev,
                leaf_index=first + i,
            )
            event.hash = prev = audit.event_digest(event)
            rows.append({c: getattr(event, c) for c in (*audit.EXPORT_COLUMNS, "leaf_index")})
        s.execute(insert(AuditEvent), rows)
        every = list(
            s.scalars(
                select(AuditEvent.hash).where(AuditEvent.station_id == sid).order_by(AuditEvent.seq)
            )
        )
        s.execute(delete(LogNode).where(LogNode.station_id == sid))
        tree = merkle.levels([merkle.leaf_hash(log_tree.leaf_data(h)) for h in every])
        s.execute(
            insert(LogNode),
            [
                {"station_id": sid, "level": lvl, "idx": i, "hash": h}
                for lvl, row in enumerate(tree)
                for i, h in enumerate(row)
            ],
        )
        heads.sign_head(s, station, keep=False)
    return station, batch_id


def tree_costs(work: Path, leaves: int, repeat: int) -> dict[str, float]:
    """Per-operation milliseconds on a log of `leaves` events (medians of `repeat`)."""
    station, batch_id = _station_with_leaves(work, leaves)
    sid = station.config.station_id
    timings: dict[str, list[float]] = {
        k: []
        for k in (
            "append_ms",
            "seal_ms",
            "issue_ms",
            "inclusion_proof_ms",
            "consistency_proof_ms",
            "stored_check_ms",
        )
    }
    rng = random.Random(leaves)
    for _ in range(repeat):
        t = time.perf_counter()
        with station.session() as s:  # one event, its leaf, and the head signed at commit
            audit.append_event(s, station_id=sid, operator="op", event_type="bench.step")
        timings["append_ms"].append(time.perf_counter() - t)
        with station.session() as s:
            batch = batches.find_batch(s, batch_id)
            device = devices.new_device(s, batch, drive(f"T{rng.random()}"))
            closing = audit.append_event(
                s, station_id=sid, operator="op", event_type="device.closed", device_id=device.id
            )
            t = time.perf_counter()
            sealed = heads.seal(s, station, closing)
            timings["seal_ms"].append(time.perf_counter() - t)
        with station.session() as s:
            device = devices.new_device(
                s, batches.find_batch(s, batch_id), drive(f"U{rng.random()}")
            )
            t = time.perf_counter()
            issuing.issue_sanitization_certificate(
                s,
                station,
                device,
                wipe_result=wipe_result(),
                pre_scan=scan_report(PRE_FINDINGS),
                post_scan=scan_report(),
            )
            timings["issue_ms"].append(time.perf_counter() - t)
        with station.session() as s:
            size = log_tree.tree_size(s, sid)
            t = time.perf_counter()
            log_tree.inclusion_proof(s, sid, rng.randrange(size), size)
            timings["inclusion_proof_ms"].append(time.perf_counter() - t)
            t = time.perf_counter()
            log_tree.consistency_proof(s, sid, rng.randrange(1, size), size)
            timings["consistency_proof_ms"].append(time.perf_counter() - t)
            head = heads.parse_head(sealed["log"]["head"], source="bench")
            seal = sealed["closing_event"]
            t = time.perf_counter()
            problem = stored_tree_problem(
                s, head, seal["seq"], seal["hash"], sealed["log"]["leaf_index"]
            )
            timings["stored_check_ms"].append(time.perf_counter() - t)
            assert problem is None, problem
    station.close()
    return {k: statistics.median(v) * 1000 for k, v in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    args = parser.parse_args()
    n, certs = (300, 5) if args.quick else (3000, 30)
    tree_sizes, repeat = ((1000, 20_000), 5) if args.quick else ((1000, 100_000), 15)
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as tmp:
        work = Path(tmp)
        one = appends(sqlite_url(work / "a.db"), n)
        plain = plain_inserts(sqlite_url(work / "b.db"), n)
        two = two_processes(sqlite_url(work / "c.db"), n, work)
        sessions = open_database(sqlite_url(work / "c.db"))
        with sessions.begin() as s:
            start = time.perf_counter()
            report = verify_chain(s)
            verify_rate = report.events / (time.perf_counter() - start)
            head = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
            assert report.ok, report.broken
            assert report.events == head == 2 * n
        costs = certificate_costs(work, certs)
        trees = {size: tree_costs(work, size, repeat) for size in tree_sizes}
    for size, figures_at in trees.items():
        print(f"log of {size:>7} leaves: " + "  ".join(
            f"{k} {v:.2f}" for k, v in figures_at.items()), file=sys.stderr)  # fmt: skip
    figures = {
        "bench": "evidence",
        "quick": args.quick,
        "events": n,
        "append_per_s": round(one, 1),
        "plain_insert_per_s": round(plain, 1),
        "append_vs_plain_insert": round(one / plain, 3),
        "append_two_processes_per_s": round(two, 1),
        "verify_chain_events_per_s": round(verify_rate, 1),
        **{k: round(v, 2) for k, v in costs.items()},
        "tree": {str(n): {k: round(v, 3) for k, v in t.items()} for n, t in trees.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg_1m": os.getloadavg()[0],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
