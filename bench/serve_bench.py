"""The verification page under load: verifications per second and latency, 4 clients at once.

A station with N certificates (each with its full log history) is served by the real
`asset-pipeline serve --workers W` (uvicorn; W = cores by default) on 127.0.0.1; a second
process runs 4 client threads with keep-alive connections, each sending a fixed number of
requests (the load is bounded in count and time and only ever goes to 127.0.0.1). Measured per
kind of request:

- `qr`: GET /c/<id>?h=<sha256>, what a customer's QR code opens (stored JSON verified);
- `json`: POST /verify with a certificate's signed JSON;
- `pdf`: POST /verify with a certificate's PDF (parse, QR decode, page text, signature);
- `page`: GET / (a template, no database): the framework's own ceiling, measured in the same
  run, as the reference the verification rates are compared with.

    python bench/serve_bench.py [--quick] [--db-url URL]

Ends with one line of JSON. Target (issue 17): >= 100 verifications/s on 2 cores (qr).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from asset_pipeline.evidence import issuing
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches, operators

# The checkout itself too: tests/wipe (no __init__) would otherwise shadow the wipe package
# under an editable install, whose finder is asked only after sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from evidence_fixtures import (  # noqa: E402
    PRE_FINDINGS,
    drive,
    register_device,
    scan_report,
    wipe_result,
)

CLIENTS = 4
STEPS = ("device.identified", "device.guarded", "device.pre_scanned", "device.sanitizing",
         "device.verified", "device.post_scanned")  # fmt: skip


def build_station(home: Path, db_url: str | None, certificates: int) -> list[tuple[str, str]]:
    """A station whose log holds `certificates` devices' histories; (id, sha256) of each."""
    from asset_pipeline.evidence import audit

    station = Station(data_dir=home, db_url=db_url)
    station.initialize(new_config("Bench AB", "bench"))
    issued = []
    with station.session() as session:
        operators.add_operator(session, "bench", title="Tekniker", contact="bench@example.se")
        customer = batches.add_customer(session, f"Kund {os.getpid()}")
        agreement = batches.add_agreement(
            session, customer=customer, reference=f"DPA-{os.getpid()}", required_level="clear",
            discovery_instructed=True, retention_years=7,
        )  # fmt: skip
        batch = batches.open_batch(session, agreement, order_number="PO-1")
        batch_id = batch.id
    for n in range(certificates):
        with station.session() as session:
            batch = batches.find_batch(session, batch_id)
            device = register_device(session, batch, drive(f"BENCH{n:08d}"))
            for step in STEPS:  # the events a real device leaves before its certificate
                audit.append_event(session, station_id=station.config.station_id,
                                   operator="bench", event_type=step, payload={"n": n},
                                   batch_id=batch_id, device_id=device.id)  # fmt: skip
            cert = issuing.issue_sanitization_certificate(
                session, station, device, wipe_result=wipe_result(),
                pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report(),
            )  # fmt: skip
            issued.append((cert.cert_id, cert.sha256))
    station.close()
    return issued


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, db_url: str | None, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(home)}
    if db_url:
        env["ASSET_PIPELINE_DB_URL"] = db_url
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen([sys.executable, "-m", "asset_pipeline", *command],
                            env=env, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("serve did not start")


def multipart(name: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = "benchboundary7d4e5f60"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()  # fmt: skip
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def load(port: int, requests: list[tuple[str, str, bytes, str, str]], seconds: float) -> dict:
    """Send `requests` round-robin from CLIENTS threads; each must answer 200 with `expect`."""
    per_client = [requests[i::CLIENTS] for i in range(CLIENTS)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(mine: list[tuple[str, str, bytes, str, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times = []
        for method, path, body, ctype, expect in mine:
            if time.monotonic() > stop_at:
                break
            started = time.perf_counter()
            conn.request(method, path, body=body or None,
                         headers={"content-type": ctype} if ctype else {})  # fmt: skip
            answer = conn.getresponse()
            text = answer.read()
            times.append(time.perf_counter() - started)
            if answer.status != 200 or expect.encode() not in text:
                with lock:
                    errors.append(f"{method} {path[:40]}: {answer.status}")
        conn.close()
        with lock:
            latencies.extend(times)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in per_client]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
    }


def children(pid: int) -> list[int]:
    """The server's worker processes."""
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--db-url", default=None, help="serve this database (default: SQLite)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="serve's worker processes (default: one per core)")  # fmt: skip
    args = parser.parse_args()
    certificates, per_kind = (40, 200) if args.quick else (300, 1200)
    with tempfile.TemporaryDirectory(prefix="ap-serve-bench-") as tmp:
        home = Path(tmp) / "station"
        t0 = time.perf_counter()
        issued = build_station(home, args.db_url, certificates)
        build_s = time.perf_counter() - t0
        certs = home / "certificates"
        rng = random.Random(7)
        picks = [rng.choice(issued) for _ in range(per_kind)]
        kinds: dict[str, list[tuple[str, str, bytes, str, str]]] = {
            "page": [("GET", "/", b"", "", "Verifiera") for _ in picks],
            "qr": [("GET", f"/c/{i}?h={h}", b"", "", "Giltigt") for i, h in picks],
            "json": [("POST", "/verify", *multipart(f"{i}.json", (certs / f"{i}.json").read_bytes(),
                                                    "application/json"), "Giltigt")
                     for i, _ in picks],
            "pdf": [("POST", "/verify", *multipart(f"{i}.pdf", (certs / f"{i}.pdf").read_bytes(),
                                                   "application/pdf"), "Giltigt")
                    for i, _ in picks[: per_kind // 4]],
        }  # fmt: skip
        proc, port = start_server(home, args.db_url, args.workers)
        try:
            load(port, kinds["qr"][:40], 30)  # warm-up: imports, caches, connections
            results = {kind: load(port, reqs, 120) for kind, reqs in kinds.items()}
            rss = peak_rss_mib(proc.pid) + sum(peak_rss_mib(c) for c in children(proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    events = certificates * (len(STEPS) + 4)
    print(f"station: {certificates} certificates, {events} log events (built in {build_s:.1f} s); "
          f"{CLIENTS} clients, keep-alive, serve --workers {args.workers}")  # fmt: skip
    for kind, r in results.items():
        ratio = r["per_second"] / results["page"]["per_second"]
        print(f"{kind:5s} {r['per_second']:7.1f}/s  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  ({r['requests']} requests, {r['errors']} errors, "
              f"{ratio:.2f} of the plain page's rate)")  # fmt: skip
    print(f"server peak RSS {rss} MiB; machine: {os.cpu_count()} cores (shared)")
    db = "postgresql" if args.db_url else "sqlite"
    print(json.dumps({"bench": "serve", "quick": args.quick, "certificates": certificates,
                      "clients": CLIENTS, "workers": args.workers, "db": db,
                      "server_peak_rss_mib": rss, **results}))  # fmt: skip


if __name__ == "__main__":
    main()
