"""Wipe engine against dd, on a RAM-backed and a disk-backed loop device, in one run.

Measures (medians of --reps runs, each in a fresh worker process so peak RSS and CPU time are
the engine's own):
  - dd if=/dev/zero bs=8M oflag=direct conv=fsync        (the write reference)
  - our zeros pass and our random (AES-256-CTR) pass      (ratios to dd)
  - dd if=DEV iflag=direct bs=8M of=/dev/null             (the read reference)
  - our full verification of the random pass              (ratio to dd's read)
  - 4 devices at once: our passes vs 4 dd runs at once    (aggregate MB/s ratio)
  - peak RSS of the worker, CPU seconds per GB written or read.

The disk-backed device is attached with --direct-io=on, so dd and the engine both reach the disk
rather than the backing file's page cache (see shared/reference/benchmarks.md). Engine figures are
timed inside the worker from open to the final fdatasync; Python's start-up (reported apart) is
left out, as dd's is. Every loop device and image this script creates is detached and removed.

    python bench/wipe_bench.py [--quick] [--size-mib N] [--reps N]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


def worker(args: list[str]) -> None:
    """Run one engine job in this process and print its timings as JSON."""
    op, dev, start_at = args[0], args[1], float(args[2])
    sys.path.insert(0, str(ROOT))
    from wipe import Pattern, open_target, overwrite, verify

    out: dict[str, float] = {}
    with open_target(dev) as target:
        while time.time() < start_at:  # start together with the other workers
            time.sleep(0.001)
        for name in op.split("+"):
            cpu0 = _cpu()
            t0 = time.time()
            if name == "verify":
                result = verify(target, pattern, method="full")  # noqa: F821 - set by the pass
                assert result.passed, result.to_dict()
                done = result.bytes_read
            else:
                pattern = Pattern.named(name)
                result = overwrite(target, pattern)
                assert result.outcome == "passed", result.to_dict()
                done = result.bytes_written
            t1 = time.time()
            out[f"{name}_start"], out[f"{name}_end"] = t0, t1
            out[f"{name}_bytes"], out[f"{name}_cpu"] = done, _cpu() - cpu0
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Bench:
    """Creates devices, runs the measurements, cleans up everything it made."""

    def __init__(self, size: int, reps: int, parallel_size: int) -> None:
        self.size, self.reps, self.parallel_size = size, reps, parallel_size
        self.loops: list[str] = []
        self.dirs: list[Path] = []
        self.mounts: list[Path] = []

    def run(self) -> dict[str, object]:
        ram_dir = self._tmpfs(self.size * 4 + 64 * MiB)
        disk_dir = Path(tempfile.mkdtemp(prefix="wipe-bench-", dir="/var/tmp"))
        self.dirs.append(disk_dir)
        figures: dict[str, object] = {"size_bytes": self.size, "reps": self.reps}
        ram = self._loop(ram_dir / "ram.img", self.size)
        figures["ram"] = self._device(ram)
        self._detach(ram)
        (ram_dir / "ram.img").unlink()
        disk = self._loop(disk_dir / "disk.img", self.size, direct_io=True)
        figures["disk"] = self._device(disk)
        self._detach(disk)
        (disk_dir / "disk.img").unlink()
        devs = [self._loop(ram_dir / f"p{i}.img", self.parallel_size) for i in range(4)]
        figures["parallel_ram_4"] = self._parallel(devs)
        figures["startup_s"] = self._startup()
        return figures

    def _device(self, dev: str) -> dict[str, float]:
        self._dd_write(dev)  # warm-up: every page of the backing store exists before timing
        runs: dict[str, list[float]] = {}
        peak = 0.0
        for _ in range(self.reps):
            dd_w, dd_w_cpu = self._dd_write(dev)
            ours = self._workers([dev], "zeros")[0]
            ours_r = self._workers([dev], "random+verify")[0]
            dd_r, dd_r_cpu = self._dd_read(dev)
            peak = max(peak, ours["maxrss_mb"], ours_r["maxrss_mb"])
            for key, value in (
                ("dd_write", dd_w), ("zeros", _mbps(ours, "zeros")),
                ("random", _mbps(ours_r, "random")), ("dd_read", dd_r),
                ("verify", _mbps(ours_r, "verify")),
                ("cpu_s_per_gb_dd_write", dd_w_cpu), ("cpu_s_per_gb_dd_read", dd_r_cpu),
                ("cpu_s_per_gb_zeros", _cpu_per_gb(ours, "zeros")),
                ("cpu_s_per_gb_random", _cpu_per_gb(ours_r, "random")),
                ("cpu_s_per_gb_verify", _cpu_per_gb(ours_r, "verify")),
            ):  # fmt: skip
                runs.setdefault(key, []).append(value)
        med = {k: round(statistics.median(v), 3) for k, v in runs.items()}
        med["zeros_ratio"] = round(med["zeros"] / med["dd_write"], 3)
        med["random_ratio"] = round(med["random"] / med["dd_write"], 3)
        med["verify_ratio"] = round(med["verify"] / med["dd_read"], 3)
        med["peak_rss_mb"] = round(peak, 1)
        return med

    def _parallel(self, devs: list[str]) -> dict[str, float]:
        for dev in devs:
            self._dd_write(dev)
        runs: dict[str, list[float]] = {}
        total = self.parallel_size * len(devs)
        for _ in range(self.reps):
            start = time.monotonic()
            procs = [_spawn(_dd_cmd_write(d)) for d in devs]
            for p in procs:
                _check(p)
            runs.setdefault("dd_write", []).append(total / (time.monotonic() - start) / 1e6)
            for op in ("zeros", "random"):
                results = self._workers(devs, op)
                t0 = min(r[f"{op}_start"] for r in results)
                t1 = max(r[f"{op}_end"] for r in results)
                runs.setdefault(op, []).append(total / (t1 - t0) / 1e6)
        med = {k: round(statistics.median(v), 1) for k, v in runs.items()}
        med["zeros_ratio"] = round(med["zeros"] / med["dd_write"], 3)
        med["random_ratio"] = round(med["random"] / med["dd_write"], 3)
        return med

    def _workers(self, devs: list[str], op: str) -> list[dict[str, float]]:
        start_at = time.time() + 1.5  # after every worker has imported the engine
        cmd = [sys.executable, __file__, "--worker", op]
        procs = [_spawn([*cmd, dev, str(start_at)]) for dev in devs]
        return [json.loads(_check(p).strip().splitlines()[-1]) for p in procs]

    def _dd_write(self, dev: str) -> tuple[float, float]:
        return _dd(_dd_cmd_write(dev))

    def _dd_read(self, dev: str) -> tuple[float, float]:
        return _dd(["dd", f"if={dev}", "of=/dev/null", "bs=8M", "iflag=direct"])

    def _startup(self) -> float:
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import wipe",
             str(ROOT)], check=True,
        )  # fmt: skip
        return round(time.monotonic() - start, 3)

    def _tmpfs(self, size: int) -> Path:
        where = Path(tempfile.mkdtemp(prefix="wipe-bench-ram-"))
        self.dirs.append(where)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       check=True)  # fmt: skip
        self.mounts.append(where)
        return where

    def _loop(self, image: Path, size: int, *, direct_io: bool = False) -> str:
        image.touch()
        os.truncate(image, size)
        cmd = ["losetup", "-f", "--show", *(["--direct-io=on"] if direct_io else []), str(image)]
        dev = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        self.loops.append(dev)
        return dev

    def _detach(self, dev: str) -> None:
        subprocess.run(["losetup", "-d", dev], check=False, capture_output=True)
        if dev in self.loops:
            self.loops.remove(dev)

    def cleanup(self) -> None:
        """Detach our loop devices (by name), unmount our tmpfs, remove our directories."""
        for dev in list(self.loops):
            self._detach(dev)
        for where in self.mounts:
            subprocess.run(["umount", str(where)], check=False, capture_output=True)
        for where in self.dirs:
            shutil.rmtree(where, ignore_errors=True)


def _dd_cmd_write(dev: str) -> list[str]:
    blocks = int(Path(f"/sys/class/block/{Path(dev).name}/size").read_text()) * 512 // (8 * MiB)
    cmd = ["dd", "if=/dev/zero", f"of={dev}", "bs=8M", "oflag=direct", "conv=fsync"]
    return [*cmd, f"count={blocks}"]  # without a count dd ends with ENOSPC and exit 1


def _dd(cmd: list[str]) -> tuple[float, float]:
    """(MB/s from dd's own report, CPU seconds per GB of the dd process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", done.stderr)
    assert match, done.stderr
    nbytes, seconds = int(match.group(1)), float(match.group(2))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return nbytes / seconds / 1e6, cpu / (nbytes / 1e9)


def _spawn(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _check(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{proc.args} failed: {err.strip()}")
    return out


def _mbps(result: dict[str, float], op: str) -> float:
    return result[f"{op}_bytes"] / (result[f"{op}_end"] - result[f"{op}_start"]) / 1e6


def _cpu_per_gb(result: dict[str, float], op: str) -> float:
    return result[f"{op}_cpu"] / (result[f"{op}_bytes"] / 1e9)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small devices, one run (< 60 s)")
    parser.add_argument("--size-mib", type=int, default=None, help="device size (default 2048)")
    parser.add_argument("--reps", type=int, default=None, help="runs per figure (default 3)")
    args = parser.parse_args()
    size = (args.size_mib or (256 if args.quick else 2048)) * MiB
    reps = args.reps or (1 if args.quick else 3)
    bench = Bench(size, reps, parallel_size=size // 2)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        figures = bench.run()
    finally:
        bench.cleanup()
    figures["quick"] = args.quick
    figures["wall_s"] = round(time.monotonic() - started, 1)
    figures["load_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    for name in ("ram", "disk"):
        f = figures[name]
        print(
            f"{name:5} dd write {f['dd_write']:7.0f} MB/s | zeros {f['zeros']:7.0f} "
            f"({f['zeros_ratio']:.2f}) | random {f['random']:7.0f} ({f['random_ratio']:.2f}) | "
            f"dd read {f['dd_read']:7.0f} | verify {f['verify']:7.0f} ({f['verify_ratio']:.2f}) "
            f"| peak {f['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )
    par = figures["parallel_ram_4"]
    print(
        f"4 RAM-backed devices at once: dd {par['dd_write']:.0f} MB/s | zeros {par['zeros']:.0f} "
        f"({par['zeros_ratio']:.2f}) | random {par['random']:.0f} ({par['random_ratio']:.2f})",
        file=sys.stderr,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
