"""Device-scan benchmark: raw and file passes against `dd` on the same image, and post-wipe scans.

Builds an ext4 file system full of generated documents with planted identifiers (text letters,
CSV exports, docx, HTML, e-mail, plus binary "photos") behind a GPT, reads it once with `dd` to
page-cache it and measure the read bandwidth, then runs each scan in a child process (so its
peak RSS and CPU time are its own):

- raw pass over the whole image (and the same pipeline with a matcher that finds nothing, to
  separate the reading/paging cost from the detectors' cost),
- file pass (fast path on extracted text; Presidio on a small slice, since it runs < 1 MB/s),
- post-wipe scans (both passes, as the pipeline runs them) of an all-zero image and of an
  AES-256-CTR patterned image given as the expected pattern.

Usage: python bench/scan_bench.py [--quick] [--size-mib N] [--workdir DIR]
       python bench/scan_bench.py --mixed [--size-mb 1024] [--tree PATH ...]  (bench/mixed_bench.py)
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 1 << 20
KEY = bytes(range(32))
WIPE_KEY = b"w" * 32

WORDS = [
    "och",
    "att",
    "det",
    "som",
    "en",
    "på",
    "är",
    "av",
    "för",
    "med",
    "till",
    "den",
    "har",
    "de",
    "inte",
    "om",
    "ett",
    "han",
    "men",
    "var",
    "jag",
    "sig",
    "från",
    "vi",
    "så",
    "kan",
    "man",
    "när",
    "år",
    "säga",
    "hon",
    "under",
    "också",
    "efter",
    "eller",
    "nu",
    "faktura",
    "kund",
    "avtal",
    "leverans",
    "order",
    "betalning",
    "adress",
    "telefon",
    "möte",
    "projekt",
    "rapport",
    "budget",
    "januari",
    "februari",
    "mars",
    "april",
]


def aes_pattern(key: bytes):
    """The wipe engine's own AES-256-CTR keystream (`wipe.pattern`), as the expected pattern."""
    from wipe.pattern import Pattern

    return Pattern.random(key=key, iv=0).filler(8 * MiB).expected


# ----------------------------------------------------------------------------- documents
def filler(rng: random.Random, n: int) -> str:
    words = []
    size = 0
    while size < n:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        words.append(line.capitalize() + ".")
        size += len(line) + 2
    return "\n".join(words)


def make_documents(root: Path, total: int, seed: int = 1) -> dict[str, int]:
    """Write about `total` bytes of documents; returns planted counts per kind."""
    from tests.scanners.documents import docx, email, personnummer

    rng = random.Random(seed)
    planted = {"personnummer": 0, "email": 0}
    written = 0
    n = 0
    while written < total:
        n += 1
        folder = root / f"kund{n % 97:02d}"
        folder.mkdir(exist_ok=True)
        kind = rng.random()
        if kind < 0.30:  # binary media: no text, realistic bulk
            data = rng.randbytes(rng.randint(256 << 10, 2 << 20))
            name = f"bild{n}.jpg"
        elif kind < 0.65:  # letters with a few identifiers
            parts = [filler(rng, rng.randint(2000, 30000))]
            for _ in range(rng.randint(1, 3)):
                parts.append(f"Personnummer: {personnummer(n)} e-post {email(n)}")
                planted["personnummer"] += 1
                planted["email"] += 1
                parts.append(filler(rng, rng.randint(500, 5000)))
            data = "\n".join(parts).encode()
            name = f"brev{n}.txt"
        elif kind < 0.75:  # customer exports: dense
            rows = rng.randint(20, 400)
            lines = ["id;namn;personnummer;epost;telefon"]
            for i in range(rows):
                lines.append(
                    f"{i};Kund {i};{personnummer(n * 1000 + i)};{email(n * 1000 + i)};0{i}"
                )
            planted["personnummer"] += rows
            planted["email"] += rows
            data = "\n".join(lines).encode("cp1252")
            name = f"export{n}.csv"
        elif kind < 0.90:
            paragraphs = [filler(rng, 400) for _ in range(rng.randint(5, 60))]
            paragraphs.insert(1, f"Personnummer {personnummer(n)}")
            planted["personnummer"] += 1
            data = docx(paragraphs)
            name = f"avtal{n}.docx"
        else:
            body = filler(rng, rng.randint(1000, 8000))
            data = (
                f"<html><body><h1>Kund</h1><p>{body}</p>"
                f"<p>Personnummer {personnummer(n)}, {email(n)}</p></body></html>"
            ).encode()
            planted["personnummer"] += 1
            planted["email"] += 1
            name = f"sida{n}.html"
        (folder / name).write_bytes(data)
        written += len(data)
    planted["files"] = n
    planted["bytes"] = written
    return planted


def build_image(work: Path, size: int) -> tuple[Path, dict[str, int]]:
    from tests.scanners.images import Volume, build_disk, make_fs

    src = work / "docs"
    src.mkdir()
    planted = make_documents(src, int(size * 0.7))
    fs = make_fs("ext4", work / "docs.fs", size, src)
    shutil.rmtree(src)
    disk = work / "docs.img"
    build_disk(disk, "gpt", [Volume("ext4", size, image=fs)])
    fs.unlink()
    return disk, planted


def write_zero_image(path: Path, size: int) -> None:
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={path}", "bs=8M", f"count={size // (8 * MiB)}", "status=none"],
        check=True,
    )


def write_pattern_image(path: Path, size: int) -> None:
    pattern = aes_pattern(WIPE_KEY)
    with open(path, "wb") as f:
        for offset in range(0, size, 8 * MiB):
            f.write(pattern(offset, min(8 * MiB, size - offset)))


def dd_read(path: Path) -> float:
    """MB/s of `dd` reading the image to /dev/null (already page-cached)."""
    out = subprocess.run(
        ["dd", f"if={path}", "of=/dev/null", "bs=8M"], check=True, capture_output=True, text=True
    ).stderr
    m = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", out)
    assert m, out
    return int(m.group(1)) / float(m.group(2)) / 1e6


# ----------------------------------------------------------------------------- child scans
class _NoMatch:
    """Reads and pages without matching: the raw pass's floor (the `Matcher` protocol)."""

    def scan(self, data, base_offset=0):  # noqa: ANN001, ANN201
        return []

    def scan_stream(self, stream, *, chunk_size=1 << 20):  # noqa: ANN001, ANN201
        return iter(())


def child(mode: str, image: str) -> None:
    """Run one scan and print its figures as JSON (peak RSS and CPU are this process's own)."""
    from scanners.fastpath import RawMatcher
    from scanners.files import FileOptions
    from scanners.findings import ValueHasher
    from scanners.raw import RawOptions, scan_raw
    from scanners.scan import ScanOptions, scan
    from scanners.target import Target

    hasher = ValueHasher(KEY)
    began = time.monotonic()
    extra: dict[str, object] = {}
    if mode in ("raw", "raw-threads", "raw-nomatch"):
        with Target(image) as target:
            if mode == "raw-nomatch":
                matcher, factory = _NoMatch(), None
            else:
                matcher = RawMatcher(hasher)
                # "raw" is what `scan()` does (worker processes from 1 GiB on).
                factory = partial(RawMatcher, hasher) if mode == "raw" else None
            options = RawOptions(matcher_factory=factory)
            result = scan_raw(target, matcher, options)
        results = [result]
        found = dict(result.tally.counts)
        scanned = result.bytes_scanned
        extra["engine"] = getattr(matcher, "engine", "none")
    else:
        if mode == "files":
            options = ScanOptions(passes=("files",), files=FileOptions(nlp_max_chars=0))
        elif mode == "files-presidio":
            options = ScanOptions(passes=("files",), files=FileOptions(presidio=True))
        elif mode == "wipe-zero":
            options = ScanOptions()
        else:  # wipe-pattern
            options = ScanOptions(expected=aes_pattern(WIPE_KEY))
        report = scan(image, hasher, options)
        results = list(report.pass_results)
        found = {c: v.count for c, v in report.findings.items() if v.count}
        scanned = report.bytes_scanned
        extra["not_scannable"] = len(report.not_scannable)
        extra["stats"] = {r.name: r.stats for r in report.pass_results}
    seconds = time.monotonic() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes of the raw pass
    workers = max(r.stats.get("worker_processes", 0) for r in results)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bytes_scanned": scanned,
                "size": Path(image).stat().st_size,
                "cpu_s": usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime,
                # This process plus each worker process at the largest worker's peak.
                "max_rss_mb": (usage.ru_maxrss + workers * kids.ru_maxrss) / 1024,
                "workers": workers,
                "findings": found,
                **extra,
            }
        )
    )


def run_child(mode: str, image: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(image)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    ap.add_argument("--size-mib", type=int, default=None, help="document file system size")
    ap.add_argument("--wipe-mib", type=int, default=None, help="size of the wiped images")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "IMAGE"), help=argparse.SUPPRESS)
    ap.add_argument("--mixed", action="store_true", help="the mixed-content image of issue 18")
    ap.add_argument("--size-mb", type=int, default=1024, help="mixed image size (MB)")
    ap.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="source tree to scan with (repeat to compare, e.g. main and a branch)",
    )
    ap.add_argument("--modes", default="raw,files,full", help="mixed: scans to run")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="mixed: rounds of every tree's scans, alternated; ratios of the median times",
    )
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.mixed:
        from bench import mixed_bench

        trees = args.tree or [ROOT]
        mixed_bench.main(args.size_mb, trees, args.workdir, args.modes.split(","), args.rounds)
        return
    size = (args.size_mib or (256 if args.quick else 2048)) * MiB
    wipe_size = (args.wipe_mib or (512 if args.quick else 2048)) * MiB
    work = Path(tempfile.mkdtemp(prefix="scan-bench-", dir=args.workdir or "/var/tmp"))
    load = os.getloadavg()
    try:
        t0 = time.monotonic()
        image, planted = build_image(work, size)
        print(
            f"built {image.stat().st_size / 1e9:.2f} GB image with {planted['files']} files "
            f"({planted['bytes'] / 1e6:.0f} MB of documents, {planted['personnummer']} "
            f"personnummer planted) in {time.monotonic() - t0:.1f} s",
            file=sys.stderr,
        )
        # Written back before the clock starts, so the kernel's write-back of the fresh 2 GB
        # image cannot run during the first scans.
        os.sync()
        dd_read(image)  # warm the page cache
        dd_mbs = max(dd_read(image) for _ in range(2))
        raw = run_child("raw", image)
        raw_threads = run_child("raw-threads", image)
        nomatch = run_child("raw-nomatch", image)
        files = run_child("files", image)

        slice_dir = work / "slice"
        slice_dir.mkdir()
        from tests.scanners.images import Volume, build_disk, make_fs

        (slice_dir / "src").mkdir()
        slice_docs = make_documents(slice_dir / "src", (2 if args.quick else 8) * MiB, seed=2)
        fs = make_fs("ext4", slice_dir / "s.fs", 32 * MiB, slice_dir / "src")
        slice_img = slice_dir / "slice.img"
        build_disk(slice_img, "gpt", [Volume("ext4", 32 * MiB, image=fs)])
        presidio = run_child("files-presidio", slice_img)

        zero = work / "zero.img"
        write_zero_image(zero, wipe_size)
        os.sync()
        wipe_zero = run_child("wipe-zero", zero)
        zero.unlink()
        patterned = work / "pattern.img"
        write_pattern_image(patterned, wipe_size)
        os.sync()
        wipe_pattern = run_child("wipe-pattern", patterned)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def mbs(r: dict, key: str = "size") -> float:
        return r[key] / r["seconds"] / 1e6

    figures = {
        "image_bytes": raw["size"],
        "document_bytes": planted["bytes"],
        "planted_personnummer": planted["personnummer"],
        "dd_read_mbs": round(dd_mbs, 1),
        "raw_mbs": round(mbs(raw), 1),
        "raw_vs_dd": round(mbs(raw) / dd_mbs, 3),
        "raw_cpu_s_per_gb": round(raw["cpu_s"] / (raw["size"] / 1e9), 2),
        "raw_found_personnummer": raw["findings"].get("personnummer", 0),
        "raw_engine": raw["engine"],
        "raw_worker_processes": raw["workers"],
        "raw_threads_mbs": round(mbs(raw_threads), 1),
        "raw_nomatch_mbs": round(mbs(nomatch), 1),
        "files_mbs_image": round(mbs(files), 1),
        "files_mbs_file_bytes": round(mbs(files, "bytes_scanned"), 1),
        "files_found_personnummer": files["findings"].get("personnummer", 0),
        "files_presidio_mbs_file_bytes": round(mbs(presidio, "bytes_scanned"), 3),
        "presidio_slice_bytes": presidio["bytes_scanned"],
        "presidio_slice_planted_personnummer": slice_docs.get("personnummer", 0),
        "presidio_found_personnummer": presidio["findings"].get("personnummer", 0),
        "wipe_zero_mbs": round(mbs(wipe_zero), 1),
        "wipe_zero_findings": sum(wipe_zero["findings"].values()),
        "wipe_zero_not_scannable": wipe_zero["not_scannable"],
        "wipe_pattern_mbs": round(mbs(wipe_pattern), 1),
        "wipe_pattern_findings": sum(wipe_pattern["findings"].values()),
        "wipe_pattern_not_scannable": wipe_pattern["not_scannable"],
        # An upper bound: this process plus every worker at the largest worker's peak.
        "peak_rss_upper_bound_mb": round(
            max(
                r["max_rss_mb"]
                for r in (raw, raw_threads, nomatch, files, presidio, wipe_zero, wipe_pattern)
            ),
            1,
        ),
        "load_avg_1m_at_start": round(load[0], 2),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "quick": args.quick,
    }
    for key, value in figures.items():
        print(f"{key:36} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
