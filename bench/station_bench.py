"""The whole station against dd: 4 drives processed at once by `watch`, vs 4 parallel dd runs.

Each drive is a synthetic customer drive (MBR + ext4 of documents with planted Swedish personal
data) on a loop device over a file on disk, attached with --direct-io=on so that both dd and
the station reach the disk, not the backing files' page cache (shared/reference/benchmarks.md).

  reference: 4 x `dd if=/dev/zero of=DEV bs=8M oflag=direct conv=fsync` at once (write only)
  station:   `asset-pipeline watch --bays <their backing files> --max-devices 4` on the same
             4 devices (bays are required since issue 13), one worker process
             per drive: identify, guard, register, sanitize (Clear, AES-256-CTR random pass),
             sample verification, post-scan (raw + file pass), signed certificate (JSON + PDF).

The station's wall time runs from starting `watch` (Python start-up, worker spawn and imports
included) to its exit after the 4th certificate. Reported: both wall times, the ratio (target
<= 1.5), aggregate MB/s, CPU seconds per GB and peak memory (largest process, and the sum over
the station's processes sampled every 0.1 s). Every loop device and file made is removed.

    python bench/station_bench.py [--quick] [--size-mib N] [--devices N]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_dd(devices: list[str], size: int, *, read: bool = False) -> float:
    """Wall seconds of one dd per device, all started together: a zero fill, or a read."""
    t0 = time.perf_counter()
    count = f"count={size // (8 * MiB)}"
    procs = [
        subprocess.Popen(
            ["dd", f"if={dev}", "of=/dev/null", "bs=8M", count, "iflag=direct"]
            if read
            else ["dd", "if=/dev/zero", f"of={dev}", "bs=8M", count, "oflag=direct", "conv=fsync"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for dev in devices
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"dd failed on {proc.args}")
    return time.perf_counter() - t0


class TreeSampler:
    """Peak RSS (sum and largest) and CPU seconds of a process tree, sampled every 0.1 s.

    Workers fork from a forkserver, which reaps them itself, so the kernel's child usage
    never reaches this script: CPU time is summed from each process's last sample instead.
    """

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_sum = self.peak_one = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = []
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for proc in procs:
                try:
                    rss.append(proc.memory_info().rss)
                    times = proc.cpu_times()
                    self.cpu[proc.pid] = times.user + times.system
                except psutil.Error:
                    continue
            if rss:
                self.peak_sum = max(self.peak_sum, sum(rss))
                self.peak_one = max(self.peak_one, max(rss))
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


def run_station(data_dir: Path, batch: int, pattern: str, n: int) -> dict[str, float]:
    """Run `watch` until n devices finished; wall time, CPU and memory of its process tree."""
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(data_dir)}
    started = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "watch", "--batch", str(batch), "--bays",
         pattern, "--max-devices", str(n), "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sampler = TreeSampler(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"watch failed: {err.strip()[-500:]}")
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    done = [line for line in lines if line["status"] == "done"]
    states = sorted(line["state"] for line in done)
    if states != ["certified"] * n:
        raise SystemExit(f"not every device was certified: {done}")
    cpu = sum(sampler.cpu.values())
    return {
        "started_at": started,
        "ended_at": started + wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_sum_mb": sampler.peak_sum / MiB,
        "peak_rss_one_mb": sampler.peak_one / MiB,
    }


def step_durations(station: object, started: float, ended: float) -> dict[str, float]:
    """Median seconds each pipeline step took, from the audit log's own timestamps."""
    import statistics

    from sqlalchemy import select

    from asset_pipeline.storage import AuditEvent

    per_device: dict[int, list[AuditEvent]] = {}
    with station.session() as session:  # type: ignore[attr-defined]
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            if event.device_id is not None:
                per_device.setdefault(event.device_id, []).append(event)
    spans: dict[str, list[float]] = {}
    for events in per_device.values():
        for prev, cur in zip(events, events[1:], strict=False):
            step = f"{prev.event_type.split('.')[-1]} -> {cur.event_type.split('.')[-1]}"
            spans.setdefault(step, []).append((cur.occurred_at - prev.occurred_at).total_seconds())
    medians = {k: round(statistics.median(v), 3) for k, v in spans.items()}
    firsts = [events[0].occurred_at.timestamp() for events in per_device.values()]
    lasts = [events[-1].occurred_at.timestamp() for events in per_device.values()]
    medians["start -> first device detected"] = round(min(firsts) - started, 3)
    medians["last device detected (after start)"] = round(max(firsts) - started, 3)
    medians["last certificate -> exit"] = round(ended - max(lasts), 3)
    return medians


def main() -> None:
    """Build the drives, measure dd and the station, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 x 256 MiB, one run (< 60 s)")
    parser.add_argument("--size-mib", type=int, default=None, help="size of each drive")
    parser.add_argument("--devices", type=int, default=4)
    args = parser.parse_args()
    size = (args.size_mib or (256 if args.quick else 1024)) * MiB
    n = args.devices

    from asset_pipeline.demo.drive import build_demo_drive
    from asset_pipeline.drives import loopdev
    from asset_pipeline.station.config import new_config
    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import batches, operators

    work = Path(tempfile.mkdtemp(prefix="station-bench-", dir="/var/tmp"))
    loops: list[str] = []
    try:
        images = [work / f"bench-drive-{i}.img" for i in range(n)]
        for i, image in enumerate(images):
            build_demo_drive(image, seed=i, size=size)
            os.truncate(image, size)
        loops = [loopdev.attach(image, direct_io=True) for image in images]  # to the disk
        dd_wall = run_dd(loops, size)
        dd_read = run_dd(loops, size, read=True)
        for i, image in enumerate(images):  # the station gets customer drives, not zeros
            build_demo_drive(image, seed=i, size=size)
        station = Station(data_dir=work / "station")
        station.initialize(new_config("Bench AB", "bench"))
        with station.session() as session:
            operators.add_operator(session, "bench", title="Bench", contact="bench")  # watch asks
            customer = batches.add_customer(session, "Bench kund", "212000-0142")
            agreement = batches.add_agreement(
                session, customer=customer, reference="BENCH-DPA", required_level="clear",
                discovery_instructed=False, retention_years=1,
            )  # fmt: skip
            batch = batches.open_batch(session, agreement).id
        station.close()
        for dev in loops:  # the rebuilt images must be what the loop devices show
            subprocess.run(["blockdev", "--flushbufs", dev], check=True)
        figures = run_station(work / "station", batch, str(work / "bench-drive-*.img"), n)
        steps = step_durations(
            Station(data_dir=work / "station"), figures["started_at"], figures["ended_at"]
        )
    finally:
        for dev in loops:
            loopdev.detach(dev)
        subprocess.run(["rm", "-rf", str(work)], check=False)

    total = n * size
    ratio = figures["wall_s"] / dd_wall
    load = os.getloadavg()[0]
    print(
        f"devices: {n} x {size // MiB} MiB, disk-backed loop devices (direct I/O); load {load:.2f}"
    )
    print(f"{n} x dd zero fill (write only)  {dd_wall:7.2f} s   {total / dd_wall / 1e6:7.0f} MB/s")
    floor = (dd_wall + dd_read) / dd_wall
    print(f"{n} x dd read (direct I/O)        {dd_read:7.2f} s   {total / dd_read / 1e6:7.0f} MB/s")
    print(
        f"floor for anything that writes every byte and then reads it back (post-scan), "
        f"computed from the two dd runs: "
        f"ratio {floor:.2f}"
    )
    print(
        f"station, plug to certificate    {figures['wall_s']:7.2f} s   "
        f"{total / figures['wall_s'] / 1e6:7.0f} MB/s   ratio {ratio:.2f} (target <= 1.5)"
    )
    print(
        f"station CPU {figures['cpu_s']:.1f} s ({figures['cpu_s'] / (total / 1e9):.1f} s/GB); "
        f"peak RSS {figures['peak_rss_one_mb']:.0f} MB largest process, "
        f"{figures['peak_rss_sum_mb']:.0f} MB all processes"
    )
    print("median seconds per step (from the audit log):")
    for step, seconds in steps.items():
        print(f"  {step:40s} {seconds:7.3f}")
    print(
        json.dumps(
            {
                "steps_median_s": steps,
                "bench": "station",
                "devices": n,
                "size_bytes": size,
                "dd_wall_s": round(dd_wall, 3),
                "dd_read_wall_s": round(dd_read, 3),
                "write_then_read_floor_ratio": round(floor, 3),
                "station_wall_s": round(figures["wall_s"], 3),
                "ratio_vs_dd": round(ratio, 3),
                "dd_mb_s": round(total / dd_wall / 1e6, 1),
                "station_mb_s": round(total / figures["wall_s"] / 1e6, 1),
                "station_cpu_s_per_gb": round(figures["cpu_s"] / (total / 1e9), 2),
                "peak_rss_largest_mb": round(figures["peak_rss_one_mb"], 1),
                "peak_rss_all_mb": round(figures["peak_rss_sum_mb"], 1),
                "load": round(load, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
