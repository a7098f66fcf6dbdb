"""Detector benchmark: the raw fast path against Presidio on the same generated text.

Generates Swedish business text (letters, notes, invoices, CSV rows) with planted personal data and
hard negatives into files (UTF-8 and its UTF-16LE form), then measures, each in a child process so
that peak RSS and CPU time are its own:

(a) the raw fast path (`RawMatcher`, all categories), streamed from the file in 8 MiB chunks
    (1 MiB with --quick);
    also at 1/4 of the size, to show that peak memory does not grow with the input;
(b) Presidio with our recognizers (`TextDetector`, blank spaCy) on a slice of the same text;
(c) Presidio's built-in Swedish recognizer alone (`SePersonnummerRecognizer`) on that slice;
and bad input for the raw path at two sizes (time ratio ~4 means linear time): one line without
newlines, one digit run, NUL bytes, random bytes.

(a) also runs on a second, sparser text (`--sparse-density`), since its cost grows with the
number of values found (each is validated in Python), and drives hold far fewer than the default.

Usage: python bench/detect_bench.py [--quick] [--size-mib N] [--density D] [--workdir DIR]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 1 << 20
KEY = bytes(range(32))

SENTENCES = (
    "Mötet hölls den {date} kl. {time} i konferensrummet på plan {small}.",
    "Fakturan på {amount} kr förfaller om 30 dagar, ordernummer {order}.",
    "Vi har levererat {small} pallar till lagret i Borås enligt följesedel {order}.",
    "Projektet följer plan och budget för kvartal {q}, se bilaga {small}.",
    "Kontakta supporten om du har frågor om din beställning.",
    "Version {version} släpptes i mars med {small} rättelser.",
    "The quarterly report for {year} is attached for your review.",
    "Leveransen består av {small} enheter à {amount} kr, artikelnummer {article}.",
    "Tack för ditt samtal i morse, vi återkommer senast {date}.",
    "Räntan är {small},{q} procent och gäller från {date}.",
    "Ärende {order} är stängt; kvitto {invoice} skickades {date}.",
    "Please find the updated price list (rev. {version}) below.",
)
RECORDS = (
    "Kund: {name}, personnummer {pnr}, e-post {email}, tel {phone}.",
    "{name};{pnr};{email};{phone};{address}",
    "Med vänliga hälsningar\n{name}\n{phone}\n{email}",
    "Betalning från {name} till IBAN {iban}, kort {card}. Adress: {address}.",
    "Org.nr {orgnr}, bankgiro {bankgiro}, kontaktperson {name} ({email}).",
)


def _paragraphs(seed: int, count: int, density: float) -> list[str]:
    """A pool of paragraphs; a fraction `density` of them carries one personal-data record."""
    from scanners.synthetic import PNR_FORMS, Synthetic

    rng, s = random.Random(seed), Synthetic(seed)
    day = lambda: f"{rng.randint(2010, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"  # noqa: E731
    pool = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(4, 12)):
            sentences.append(
                rng.choice(SENTENCES).format(
                    date=day(),
                    time=f"{rng.randint(7, 18)}:{rng.choice(('00', '15', '30', '45'))}",
                    small=rng.randint(2, 60),
                    amount=f"{rng.randint(1, 99)} {rng.randint(0, 999):03d}",
                    order=f"{rng.randint(10**5, 10**8)}",
                    q=rng.randint(1, 4),
                    version=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                    year=rng.randint(2015, 2025),
                    article=f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    invoice=f"{rng.randint(2015, 2025)}{rng.randint(0, 999999):06d}",
                )
            )
        if rng.random() < density:
            sentences.append(
                rng.choice(RECORDS).format(
                    name=s.name(),
                    pnr=s.personnummer(rng.choice(PNR_FORMS[:1] + PNR_FORMS[3:])),
                    email=s.email(),
                    phone=s.phone(mobile=rng.random() < 0.7),
                    address=s.address(),
                    iban=s.iban(),
                    card=s.card(),
                    orgnr=s.organisationsnummer(),
                    bankgiro=s.bankgiro(),
                )
            )
        pool.append(" ".join(sentences) + "\n\n")
    return pool


def generate(workdir: Path, size: int, density: float, seed: int = 1) -> dict[str, Path]:
    """Write `size` bytes of UTF-8 text and its UTF-16LE form, streamed, and return the paths."""
    pool = _paragraphs(seed, 4000, density)
    rng = random.Random(seed)
    paths = {"utf-8": workdir / "text.utf8", "utf-16-le": workdir / "text.utf16"}
    with paths["utf-8"].open("wb") as u8, paths["utf-16-le"].open("wb") as u16:
        written = 0
        while written < size:
            block = "".join(rng.choices(pool, k=256))
            u8.write(block.encode("utf-8"))
            u16.write(block.encode("utf-16-le"))
            written += len(block.encode("utf-8"))
    return paths


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_raw(path: str, limit: int, chunk: int) -> dict:
    """(a): stream the file through RawMatcher."""
    from scanners.fastpath import RawMatcher
    from scanners.findings import ValueHasher

    matcher = RawMatcher(ValueHasher(KEY))
    # Once per process, not per megabyte: numpy's import (for the UTF-16 sampling) and the
    # engine's first scratch space.
    matcher.scan(b"warm-up " * 20_000)
    rss_before = _rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    counts: dict[str, int] = {}
    with open(path, "rb") as f:
        stream = _Limited(f, limit) if limit else f
        for finding in matcher.scan_stream(stream, chunk_size=chunk):
            counts[finding.category] = counts.get(finding.category, 0) + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = limit or Path(path).stat().st_size
    return {
        "bytes": size,
        "seconds": wall,
        "cpu_seconds": cpu,
        "findings": counts,
        "engine": matcher.engine,
        "rss_before_mib": rss_before,
        "peak_rss_mib": _rss_mib(),
    }


class _Limited:
    def __init__(self, f, limit: int) -> None:
        self.f, self.left = f, limit

    def read(self, n: int) -> bytes:
        data = self.f.read(min(n, self.left))
        self.left -= len(data)
        return data


def _slices(path: str, size: int) -> list[str]:
    """The first `size` bytes of the UTF-8 file as paragraphs of at most 100 kB (spaCy's limit
    is one million characters per document)."""
    with open(path, "rb") as f:
        text = f.read(size).decode("utf-8", "ignore")
    parts, start = [], 0
    while start < len(text):
        end = text.find("\n\n", start + 100_000)
        end = len(text) if end < 0 else end + 2
        parts.append(text[start:end])
        start = end
    return parts


def child_presidio(path: str, size: int, which: str) -> dict:
    """(b) our recognizers in Presidio, or (c) Presidio's Swedish recognizer alone."""
    from scanners.findings import ValueHasher
    from scanners.text import LocalSpacyNlpEngine, TextDetector

    parts = _slices(path, size)
    if which == "ours":
        detector = TextDetector(ValueHasher(KEY))
        run = detector.scan
    else:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.predefined_recognizers import SePersonnummerRecognizer

        registry = RecognizerRegistry(supported_languages=["sv"])
        registry.add_recognizer(SePersonnummerRecognizer())
        engine = AnalyzerEngine(
            registry=registry, nlp_engine=LocalSpacyNlpEngine(["sv"]), supported_languages=["sv"]
        )

        def run(text: str) -> list:
            return engine.analyze(text=text, language="sv")

    wall, cpu = time.perf_counter(), time.process_time()
    found = sum(len(run(p)) for p in parts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    nbytes = sum(len(p.encode("utf-8")) for p in parts)
    return {
        "bytes": nbytes,
        "seconds": wall,
        "cpu_seconds": cpu,
        "findings": found,
        "peak_rss_mib": _rss_mib(),
    }


def _bad(kind: str, size: int) -> bytes:
    rng = random.Random(7)
    if kind == "one_line":  # text without a single newline: words, numbers, punctuation
        words = b"och att det som en p\xc3\xa5 \xc3\xa4r 811218 070 123 45 67 12:30 2024-01-05"
        words = (words + b" a@ x.se @@ 4111 -").split()
        unit = b" ".join(rng.choices(words, k=4096)) + b" "
        return (unit * (size // len(unit) + 1))[:size]
    if kind == "digit_run":
        return b"7" * size
    if kind == "nul":
        return bytes(size)
    return os.urandom(size)


def child_bad(kind: str, size: int) -> dict:
    """One bad-input buffer through RawMatcher.scan as a whole (no chunking to hide behind)."""
    from scanners.fastpath import RawMatcher
    from scanners.findings import ValueHasher

    matcher = RawMatcher(ValueHasher(KEY))
    data = _bad(kind, size)
    wall = time.perf_counter()
    found = len(matcher.scan(data))
    return {"bytes": size, "seconds": time.perf_counter() - wall, "findings": found}


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mbps(r: dict) -> float:
    return r["bytes"] / 1e6 / r["seconds"]


def _per_cpu(r: dict, digits: int = 1) -> float:
    return round(r["bytes"] / 1e6 / r["cpu_seconds"], digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run (< 60 s)")
    parser.add_argument("--size-mib", type=int, help="generated text size (default 64, quick 8)")
    parser.add_argument(
        "--density",
        type=float,
        default=0.1,
        help="fraction of paragraphs with a personal-data record (default 0.1)",
    )
    parser.add_argument(
        "--sparse-density",
        type=float,
        default=0.01,
        help="density of the second, sparser text for (a) (default 0.01)",
    )
    parser.add_argument("--workdir", type=Path, help="where the text files go (default: temp)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        funcs = {
            "raw": lambda p, n, c: child_raw(p, int(n), int(c)),
            "presidio": lambda p, n, w: child_presidio(p, int(n), w),
            "bad": lambda k, n: child_bad(k, int(n)),
        }
        print(json.dumps(funcs[kind](*rest)))
        return

    size = (args.size_mib or (8 if args.quick else 64)) * MiB
    runs = 1 if args.quick else 3
    # Stream chunk: the 1/4-size run must still span several chunks for its peak RSS to compare.
    chunk = str(MiB if args.quick else 8 * MiB)
    slice_size = (256 << 10) if args.quick else MiB
    bad_sizes = (4 * MiB, 16 * MiB) if args.quick else (25 * MiB, 100 * MiB)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        t0 = time.perf_counter()
        paths = generate(Path(tmp), size, args.density)
        gen_s = time.perf_counter() - t0
        raw = {}
        for enc, path in paths.items():
            results = [_child("raw", str(path), "0", chunk) for _ in range(runs)]
            median = sorted(results, key=_mbps)[len(results) // 2]
            raw[enc] = {
                **median,
                "mb_s": round(_mbps(median), 1),
                "mb_s_runs": [round(_mbps(r), 1) for r in results],
                "cpu_s_per_gb": round(median["cpu_seconds"] / (median["bytes"] / 1e9), 2),
            }
            print(
                f"(a) raw {enc}: {raw[enc]['mb_s']} MB/s, "
                f"peak RSS {median['peak_rss_mib']:.0f} MiB",
                file=sys.stderr,
            )
        small = _child("raw", str(paths["utf-8"]), str(size // 4), chunk)
        sparse_dir = Path(tmp) / "sparse"
        sparse_dir.mkdir()
        sparse_path = generate(sparse_dir, size, args.sparse_density, seed=2)["utf-8"]
        sparse = sorted(
            (_child("raw", str(sparse_path), "0", chunk) for _ in range(runs)), key=_mbps
        )
        sparse_median = sparse[len(sparse) // 2]
        print(
            f"(a) raw utf-8 at density {args.sparse_density}: {_mbps(sparse_median):.1f} MB/s",
            file=sys.stderr,
        )
        ours = _child("presidio", str(paths["utf-8"]), str(slice_size), "ours")
        builtin = _child("presidio", str(paths["utf-8"]), str(slice_size), "builtin")
        print(f"(b) {_mbps(ours):.3f} MB/s  (c) {_mbps(builtin):.3f} MB/s", file=sys.stderr)
    bad = {}
    for kind in ("one_line", "digit_run", "nul", "random"):
        a, b = (_child("bad", kind, str(n)) for n in bad_sizes)
        bad[kind] = {
            "mb_s_small": round(_mbps(a), 1),
            "mb_s_large": round(_mbps(b), 1),
            "time_ratio_4x_input": round(b["seconds"] / a["seconds"], 2),
        }
        print(f"bad {kind}: {bad[kind]}", file=sys.stderr)
    a_mbs = raw["utf-8"]["mb_s"]
    figures = {
        "bench": "detect",
        "quick": args.quick,
        "text_mib": size // MiB,
        "density": args.density,
        "findings_per_mb": round(sum(raw["utf-8"]["findings"].values()) / (size / 1e6), 1),
        "generate_s": round(gen_s, 1),
        "a_raw_utf8_mb_s": a_mbs,
        "a_raw_utf16le_mb_s": raw["utf-16-le"]["mb_s"],
        "a_raw_utf8_cpu_s_per_gb": raw["utf-8"]["cpu_s_per_gb"],
        # Per core: bytes per CPU second of the scanning process (the machine is shared).
        "a_raw_utf8_mb_per_cpu_s": _per_cpu(raw["utf-8"]),
        "a_raw_utf16le_mb_per_cpu_s": _per_cpu(raw["utf-16-le"]),
        "a_raw_utf8_sparse_mb_per_cpu_s": _per_cpu(sparse_median),
        "b_presidio_ours_mb_per_cpu_s": _per_cpu(ours, 4),
        "ratio_a_over_b_per_cpu": round(_per_cpu(raw["utf-8"]) / _per_cpu(ours, 4), 1),
        "a_engine": raw["utf-8"]["engine"],
        "a_raw_utf8_sparse_mb_s": round(_mbps(sparse_median), 1),
        "sparse_density": args.sparse_density,
        "sparse_findings_per_mb": round(
            sum(sparse_median["findings"].values()) / (sparse_median["bytes"] / 1e6), 1
        ),
        "a_findings_utf8": raw["utf-8"]["findings"],
        "a_peak_rss_mib_full": round(raw["utf-8"]["peak_rss_mib"], 1),
        "a_peak_rss_mib_quarter": round(small["peak_rss_mib"], 1),
        "a_chunk_bytes": int(chunk),
        "b_presidio_ours_mb_s": round(_mbps(ours), 4),
        "c_presidio_builtin_se_mb_s": round(_mbps(builtin), 4),
        "slice_bytes": ours["bytes"],
        "ratio_a_over_b": round(a_mbs / _mbps(ours), 1),
        "ratio_a_over_c": round(a_mbs / _mbps(builtin), 1),
        "b_peak_rss_mib": round(ours["peak_rss_mib"], 1),
        "bad_input": bad,
        "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
    }
    if runs > 1:
        figures["a_raw_utf8_mb_s_runs"] = raw["utf-8"]["mb_s_runs"]
        figures["a_median_of"] = runs
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
