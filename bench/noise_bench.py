"""Findings in bytes that hold no personal data: random, encrypted, compressed, executables.

A drive wiped with an AES-CTR pattern, an encrypted volume or a disk of compressed archives must
give no findings at all (issue 14, part 5), else the pre-scan reports noise to the controller and
the post-scan fails a correctly wiped drive. This prints, per source, the findings per GiB by
category and the raw matcher's MB/s on one core:

- aes-ctr: AES-256-CTR keystream (the wipe pattern), fixed key,
- urandom: /dev/urandom,
- tar.xz: a tar of /usr compressed by `xz -0` (built once in --workdir, cut to --size-mib;
  /usr/lib alone gives less than 1 GiB of it),
- usr-lib: executables and shared libraries under /usr/lib, concatenated (real strings: their
  findings are counted, not expected to be zero).

Usage: python bench/noise_bench.py [--size-mib 1024] [--workdir /tmp/noise_bench] [--only NAME]
Ends with one JSON line of the figures. Run it with PYTHONPATH pointing at the tree to measure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scanners.fastpath import RawMatcher  # noqa: E402
from scanners.findings import ValueHasher  # noqa: E402

MiB = 1 << 20
CHUNK = 16 * MiB


def aes_ctr(size: int) -> Iterator[bytes]:
    enc = Cipher(algorithms.AES(b"n" * 32), modes.CTR(b"\0" * 16)).encryptor()
    zeros = bytes(CHUNK)
    for _ in range(0, size, CHUNK):
        yield enc.update(zeros)


def urandom(size: int) -> Iterator[bytes]:
    for _ in range(0, size, CHUNK):
        yield os.urandom(CHUNK)


def _file(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        left = size
        while left > 0:
            block = f.read(min(CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block


def tar_xz(size: int, workdir: Path) -> Iterator[bytes]:
    path = workdir / f"usr-{size}.tar.xz"
    if not path.exists() or path.stat().st_size < size:
        tmp = path.with_suffix(".part")
        cmd = (
            f"tar -cf - --ignore-failed-read /usr 2>/dev/null | xz -0 -T2 | head -c {size} > {tmp}"
        )
        subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=False)
        tmp.rename(path)
        if path.stat().st_size < size:
            print(f"tar.xz: only {path.stat().st_size / MiB:.0f} MiB of it", file=sys.stderr)
    return _file(path, size)


def usr_lib(size: int, workdir: Path) -> Iterator[bytes]:
    path = workdir / f"usr-lib-{size}.elf"
    if not path.exists() or path.stat().st_size < size:
        with path.open("wb") as out:
            written = 0
            for p in sorted(Path("/usr/lib").rglob("*")):
                if written >= size:
                    break
                try:
                    if not p.is_file() or p.is_symlink():
                        continue
                    with p.open("rb") as f:
                        if f.read(4) != b"\x7fELF":
                            continue
                        f.seek(0)
                        data = f.read(size - written)
                except OSError:
                    continue
                out.write(data)
                written += len(data)
    return _file(path, size)


def measure(name: str, blocks: Iterator[bytes], matcher: RawMatcher) -> dict:
    counts: Counter[str] = Counter()
    scanned, busy, offset = 0, 0.0, 0
    for block in blocks:
        t = time.perf_counter()
        counts.update(f.category for f in matcher.scan(block, offset))
        busy += time.perf_counter() - t
        scanned += len(block)
        offset += len(block)
    gib = scanned / (1 << 30)
    per_gib = {c: round(n / gib, 2) for c, n in sorted(counts.items())}
    mbps = scanned / busy / 1e6 if busy else 0.0
    total = sum(counts.values())
    print(f"{name:8} {scanned / MiB:8.0f} MiB  {total:6} findings ({total / gib:8.2f}/GiB)  "
          f"{mbps:6.0f} MB/s  {per_gib}", flush=True)  # fmt: skip
    return {"bytes": scanned, "findings": dict(counts), "per_gib": per_gib, "mb_s": round(mbps)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/noise_bench"))
    ap.add_argument("--only", action="append")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    size = args.size_mib * MiB
    matcher = RawMatcher(ValueHasher(b"b" * 32))
    sources = {
        "aes-ctr": lambda: aes_ctr(size),
        "urandom": lambda: urandom(size),
        "tar.xz": lambda: tar_xz(size, args.workdir),
        "usr-lib": lambda: usr_lib(size, args.workdir),
    }
    print(f"scanners from {Path(sys.modules['scanners'].__file__).parent}, engine "
          f"{matcher.engine}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    out = {}
    for name, make in sources.items():
        if args.only and name not in args.only:
            continue
        out[name] = measure(name, make(), matcher)
    print(json.dumps({"load": os.getloadavg(), **out}))


if __name__ == "__main__":
    main()
