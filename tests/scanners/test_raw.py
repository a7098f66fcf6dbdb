"""The raw pass: pages and margins, skipped pages, compressed streams, bombs, holes and EIO."""

from __future__ import annotations

import errno
import gzip
import io
import os
import random
import shutil
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from scanners.fastpath import RawMatcher
from scanners.inflate import Limits, cut_reason
from scanners.raw import RawOptions, scan_raw
from scanners.target import Target
from tests.scanners.documents import email, personnummer
from tests.scanners.images import MiB, eio_file

PAGE = 1 * MiB
SMALL = RawOptions(page_size=PAGE, margin=4096)


def image(tmp_path: Path, size: int, plants: dict[int, bytes], *, fill: bytes = b"\0") -> Path:
    path = tmp_path / "raw.img"
    with open(path, "wb") as f:
        if fill == b"\0":
            f.truncate(size)
        else:
            f.write((fill * (size // len(fill) + 1))[:size])
        for offset, data in plants.items():
            f.seek(offset)
            f.write(data)
    return path


def values_image(
    tmp_path: Path, pages: int, count: int, seed: int, extra: dict[int, bytes] | None = None
) -> Path:
    """An image of `pages` pages with `count` personnummer and e-mail pairs at random places
    (and the `extra` bytes)."""
    rng = random.Random(seed)
    plants = {
        rng.randrange(0, pages * PAGE - 64): f" {personnummer(i)} {email(i)} ".encode()
        for i in range(count)
    }
    return image(tmp_path, pages * PAGE, {**plants, **(extra or {})})


def raw(path: Path, hasher, options: RawOptions = SMALL):
    with Target(path) as target:
        return scan_raw(target, RawMatcher(hasher), options)


@pytest.mark.parametrize("shift", [-12, -6, -1, 0, 1, 4095, 4096 - 6])
def test_a_match_across_a_page_edge_is_counted_once_where_it_starts(tmp_path, hasher, shift):
    value = f" {personnummer(3)} ".encode()
    result = raw(image(tmp_path, 4 * PAGE, {2 * PAGE + shift: value}), hasher)
    assert result.tally.counts["personnummer"] == 1
    [(category, region, allocation)] = result.tally.by_offset
    assert (category, region, allocation) == (
        "personnummer",
        2 * PAGE + shift + 1 - (2 * PAGE + shift + 1) % MiB,
        "unmapped",  # the raw pass called alone, without the file systems' extent map
    )


def test_every_page_size_gives_the_same_counts(tmp_path, hasher):
    path = values_image(tmp_path, 6, 200, seed=7)
    counts = {
        size: raw(path, hasher, RawOptions(page_size=size, margin=4096)).tally.counts
        for size in (64 << 10, 1 << 20, 3 << 20, 8 << 20)
    }
    assert len({tuple(sorted(c.items())) for c in counts.values()}) == 1
    assert counts[1 << 20]["personnummer"] == 200


def test_utf16le_text_is_found(tmp_path, hasher):
    text = f" Personnummer {personnummer(4)} e-post {email(4)} ".encode("utf-16-le")
    result = raw(image(tmp_path, 2 * PAGE, {PAGE - 20: text}), hasher)
    assert result.tally.counts["personnummer"] == 1
    assert result.tally.counts["email"] == 1


def test_zeroed_image_has_no_findings_and_skips_every_page(tmp_path, hasher):
    result = raw(image(tmp_path, 8 * PAGE, {}), hasher)
    assert result.tally.total == 0
    assert result.stats == {
        "pages_uniform": 8,
        "streams_inflated": 0,
        "bytes_inflated": 0,
        "streams_left_to_file_pass": 0,
        "bytes_left_to_file_pass": 0,
        "worker_processes": 0,
        "findings_given_way": 0,
    }
    assert result.not_scannable == []


def test_match_right_after_a_skipped_uniform_page_is_counted_once(tmp_path, hasher):
    # Page 0 is all 0xFF (skipped); the value starts at the first byte of page 1.
    path = image(tmp_path, 3 * PAGE, {PAGE: personnummer(5).encode() + b" "}, fill=b"\xff")
    result = raw(path, hasher)
    assert result.tally.counts["personnummer"] == 1
    assert result.stats["pages_uniform"] == 2


def aes_pattern(key: bytes):
    """The wipe engine's AES-256-CTR keystream, as a post-wipe scan is given it."""
    from wipe.pattern import Pattern

    return Pattern.random(key=key, iv=12345).filler(8 * MiB).expected


@pytest.mark.parametrize("processes", [False, True])
def test_expected_wipe_pattern_pages_are_skipped_and_residue_is_found(tmp_path, hasher, processes):
    from functools import partial

    pattern = aes_pattern(b"k" * 32)
    path = tmp_path / "wiped.img"
    path.write_bytes(b"".join(pattern(i * PAGE, PAGE) for i in range(6)))
    residue = f" {personnummer(6)} ".encode()
    with open(path, "r+b") as f:  # a block the wipe missed
        f.seek(3 * PAGE + 100)
        f.write(residue)
    options = RawOptions(
        page_size=PAGE,
        margin=4096,
        expected=pattern,
        matcher_factory=partial(RawMatcher, hasher) if processes else None,
        processes_from=0,
        match_while_starting=False,
    )
    result = raw(path, hasher, options)
    assert result.stats["worker_processes"] == (2 if processes else 0)
    assert result.stats["pages_pattern"] == 5
    assert result.stats["pages_data"] == 1
    assert result.tally.counts["personnummer"] == 1


def test_compressed_streams_are_inflated_and_nested(tmp_path, hasher):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", f"pnr {personnummer(7)} " * 3)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner.zip", inner.getvalue())
    plants = {
        100: zlib.compress(f"FlateDecode {personnummer(8)} ".encode() * 2),
        PAGE - 30: gzip.compress(f"gz {email(8)} ".encode() * 5),  # starts on page 0, ends on 1
        2 * PAGE: outer.getvalue(),
    }
    result = raw(image(tmp_path, 4 * PAGE, plants), hasher)
    assert result.tally.counts["personnummer"] == 5
    assert result.tally.counts["email"] == 5
    # Counted at the outer zip.
    assert result.tally.by_offset[("personnummer", 2 * PAGE, "unmapped")] == 3


def test_a_long_stream_is_matched_in_pieces_counting_every_value(tmp_path, hasher):
    """Inflated output is matched a piece at a time (memory), and counted in batches: values at
    the pieces' edges are found once, as one scan of the whole output finds them."""
    from scanners.digests import DigestSet
    from scanners.pagescan import INFLATED_BATCH, INFLATED_PIECE

    rng = random.Random(11)
    lines = []
    while sum(map(len, lines)) < 3 * INFLATED_PIECE + 1000:
        i = rng.randrange(10**6)
        lines.append(f"{i} to=<{email(i)}> pnr {personnummer(i % 900)} status=sent\n")
    text = "".join(lines).encode()
    whole = RawMatcher(hasher).scan(text)
    assert len(whole) > 2 * INFLATED_BATCH
    result = raw(image(tmp_path, 4 * PAGE, {5000: gzip.compress(text)}), hasher)
    for category in ("email", "personnummer"):
        expected = [f.digest for f in whole if f.category == category]
        assert result.tally.counts[category] == len(expected) == len(lines)
        assert result.tally.digests[category] == DigestSet(expected)
    assert result.tally.by_offset == {
        ("email", 0, "unmapped"): len(lines),
        ("personnummer", 0, "unmapped"): len(lines),
    }


def test_a_dense_stream_s_findings_are_not_all_held_at_once(tmp_path, hasher):
    """8 MiB of mail log inflate to 230,000 values: held as findings all at once they took
    ten times the output's size (about 80 MB); matched a piece at a time, under four times."""
    import tracemalloc

    rng = random.Random(12)
    lines, size = [], 0
    while size < 8 * MiB:
        i = rng.randrange(10**6)
        lines.append(f"{i} to=<{email(i)}> relay=mx[10.{i % 250}.1.2] status=sent\n")
        size += len(lines[-1])
    path = image(tmp_path, 4 * PAGE, {5000: gzip.compress("".join(lines).encode())})
    tracemalloc.start()
    try:
        result = raw(path, hasher)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.tally.counts["email"] == len(lines)
    assert peak < 4 * size


def _mail_log(size: int, seed: int = 12, distinct: int = 10**6) -> list[str]:
    rng = random.Random(seed)
    lines, total = [], 0
    while total < size:
        i = rng.randrange(distinct)
        lines.append(f"{i} to=<{email(i)}> relay=mx[10.{i % 250}.1.2] status=sent\n")
        total += len(lines[-1])
    return lines


def test_a_stream_past_the_held_limit_is_read_to_its_end_in_bounded_memory(tmp_path, hasher):
    """Mail logs two and eight times the held limit: every line counted, none reported cut, and
    the same memory for both (the old limit stopped at the held limit and reported the rest).
    The logs repeat 5,000 addresses, so the distinct digests do not grow with them either."""
    import tracemalloc

    limits = Limits(max_output=4 * MiB)
    peaks = []
    for size in (8 * MiB, 32 * MiB):
        lines = _mail_log(size, distinct=5000)
        path = image(tmp_path, 16 * PAGE, {5000: gzip.compress("".join(lines).encode())})
        tracemalloc.start()
        try:
            result = raw(path, hasher, RawOptions(page_size=PAGE, margin=4096, limits=limits))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert result.tally.counts["email"] == len(lines)
        assert result.not_scannable == []
        assert result.stats["bytes_inflated"] == sum(len(line) for line in lines)
    assert peaks[1] < 1.25 * peaks[0]
    assert peaks[1] < 32 * MiB


def test_a_bomb_behind_text_stops_at_the_ratio_and_is_reported(tmp_path, hasher):
    """Text, then zeros a thousand times their compressed size: the text past the held limit
    is counted, and the stream stops once its output passes `max_ratio` times its input."""
    lines = _mail_log(3 * MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    packed = packer.compress("".join(lines).encode())
    for _ in range(64):
        packed += packer.compress(bytes(4 * MiB))
    packed += packer.flush()
    limits = Limits(max_output=1 * MiB)
    result = raw(
        image(tmp_path, 4 * PAGE, {7: packed}),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    assert result.tally.counts["email"] == len(lines)
    # At most one piece (1 MiB) past the ratio, far from the 259 MiB the stream holds.
    assert result.stats["bytes_inflated"] <= limits.max_ratio * len(packed) + MiB
    assert [u.reason for u in result.not_scannable] == [cut_reason(limits)]


def _zip_of(name: str, body: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, body)
    return buf.getvalue()


@pytest.mark.parametrize("where", ["held", "tail"])
def test_a_stream_inside_a_long_stream_is_read_or_reported(tmp_path, hasher, where):
    """A document inside a tar.gz: in the held part it is inflated and found; past it (only
    the held part is searched for streams) it is reported, never left out in silence. The
    log text around it holds chance signatures (`x^`, `x\x01`), which are no streams."""
    before = "".join(_mail_log(3 * MiB if where == "tail" else MiB // 4)).encode()
    inner = _zip_of("brev.txt", f"Personnummer {personnummer(5)}\n".encode() * 50)
    noise = b" taxi^ max\x01 " * 1000
    packed = gzip.compress(before + noise + inner + noise + before)
    limits = Limits(max_output=1 * MiB)
    result = raw(
        image(tmp_path, 8 * PAGE, {7: packed}),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    reasons = [u.reason for u in result.not_scannable]
    if where == "held":
        assert result.tally.counts["personnummer"] == 50
        assert reasons == []
    else:
        assert result.tally.counts["personnummer"] == 0
        assert reasons == [
            f"compressed streams inside a compressed stream past its first {MiB} bytes; not read"
        ]


def test_chance_signatures_past_the_held_part_are_not_reported(tmp_path, hasher):
    line = b" taxi^ max\x01 x\x9c PK\x03\x04 \x1f\x8b\x08 %d\n"
    text = b"".join(line % i for i in range(300_000))
    assert len(text) > 4 * MiB
    limits = Limits(max_output=1 * MiB)
    result = raw(
        image(tmp_path, 4 * PAGE, {7: gzip.compress(text)}),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    assert result.not_scannable == []
    assert result.stats["bytes_inflated"] == len(text)


def test_a_stream_past_the_tail_input_limit_is_reported(tmp_path, hasher):
    lines = _mail_log(6 * MiB)
    packed = gzip.compress("".join(lines).encode())
    limits = Limits(max_output=1 * MiB, max_tail_input=len(packed) // 2)
    result = raw(
        image(tmp_path, 4 * PAGE, {7: packed}),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    assert 0 < result.tally.counts["email"] < len(lines)
    assert [u.reason for u in result.not_scannable] == [cut_reason(limits)]


def test_zip_bomb_is_bounded_and_reported(tmp_path, hasher):
    bomb = zlib.compress(bytes(512 * MiB), 9)  # 512 MiB of zeros in about 500 kB
    limits = Limits(max_output=4 * MiB, budget=8 * MiB)
    result = raw(
        image(tmp_path, 4 * PAGE, {10: bomb[:2] + bomb[2:], 2 * PAGE: zlib.compress(b"x" * 10)}),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    assert result.stats["bytes_inflated"] <= 8 * MiB + 64
    assert result.tally.total == 0


def test_many_bombs_on_one_page_exhaust_the_budget(tmp_path, hasher):
    one = zlib.compress(bytes(8 * MiB), 9)
    plants = {i * len(one) + 16 * i: one for i in range(PAGE // (len(one) + 16))}
    limits = Limits(max_output=4 * MiB, budget=16 * MiB)
    result = raw(
        image(tmp_path, 2 * PAGE, plants),
        hasher,
        RawOptions(page_size=PAGE, margin=4096, limits=limits),
    )
    assert result.stats["bytes_inflated"] <= 16 * MiB
    # Each 8 MiB stream is also cut at the 4 MiB per-stream limit: both cut-offs are named.
    assert [u.reason for u in result.not_scannable] == [
        "compressed streams beyond the inflate budget (zip bomb?)",
        cut_reason(limits),
    ]


def test_ten_gigabyte_sparse_file_is_read_through_its_holes(tmp_path, hasher):
    path = tmp_path / "sparse.img"
    with open(path, "wb") as f:
        f.truncate(10 << 30)
        f.seek(7 << 30)
        f.write(f" {personnummer(9)} ".encode())
    result = raw(path, hasher, RawOptions())
    assert result.tally.counts["personnummer"] == 1
    assert result.bytes_scanned == 10 << 30
    assert result.stats["pages_uniform"] == (10 << 30) // RawOptions().page_size - 1


@pytest.mark.skipif(shutil.which("mkfs.btrfs") is None, reason="btrfs-progs is not installed")
def test_unreadable_sectors_are_skipped_recorded_and_the_scan_finishes(tmp_path, hasher, make_loop):
    rng = random.Random(11)
    data = bytearray(rng.randbytes(4 * PAGE))
    for i, where in enumerate((1000, PAGE + 8192 - 3, 3 * PAGE + 50)):
        value = f" {personnummer(90 + i)} ".encode()
        data[where : where + len(value)] = value
    bad = [PAGE + 4096 * 4, 2 * PAGE + 4096 * 9, 2 * PAGE + 4096 * 10]
    with eio_file(tmp_path, make_loop, bytes(data), bad) as path:
        fd = os.open(path, os.O_RDONLY)
        try:
            with pytest.raises(OSError) as e:
                os.pread(fd, 4096, bad[0])
            assert e.value.errno == errno.EIO  # the kernel really says EIO
        finally:
            os.close(fd)
        result = raw(path, hasher)
    assert result.tally.counts["personnummer"] == 3
    assert [(u.region, u.reason) for u in result.not_scannable] == [
        (f"bytes {bad[0]}-{bad[0] + 4095}", "read error (EIO)"),
        (f"bytes {bad[1]}-{bad[2] + 4095}", "read error (EIO)"),
    ]
    assert result.bytes_scanned == 4 * PAGE - 3 * 4096


def test_signature_search_without_the_c_extension_finds_the_same_streams(monkeypatch) -> None:
    from scanners import inflate

    data = (
        b"".join(
            [
                b"junk",
                zlib.compress(b"a" * 100),
                b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20),
                gzip.compress(b"b"),
                b"x^",
            ]
        )
        * 50
    )
    fast = [(s.offset, s.kind) for s in inflate.find_streams(data)]
    monkeypatch.setattr(inflate, "_hot", None)
    slow = [(s.offset, s.kind) for s in inflate.find_streams(data)]
    assert fast == slow
    assert {kind for _, kind in fast} == {"zlib", "zip", "gzip"}


def test_worker_processes_count_exactly_like_threads(tmp_path, hasher):
    from functools import partial

    zipped = zlib.compress(f"zlib {personnummer(500)} ".encode())
    path = values_image(tmp_path, 6, 300, seed=5, extra={4 * PAGE + 7: zipped})
    threads = raw(path, hasher)
    options = RawOptions(
        page_size=PAGE,
        margin=4096,
        matcher_factory=partial(RawMatcher, hasher),
        processes_from=0,
        match_while_starting=False,
    )
    processes = raw(path, hasher, options)
    assert processes.stats["worker_processes"] == 2
    assert processes.stats["pages_matched_while_workers_started"] == 0
    assert processes.tally.counts == threads.tally.counts
    assert processes.tally.digests == threads.tally.digests
    assert processes.tally.by_offset == threads.tally.by_offset


class _SlowMatcher(RawMatcher):
    """Matches as RawMatcher does, a quarter second a page: the workers start meanwhile."""

    def scan_records(self, data, base_offset=0):  # type: ignore[no-untyped-def]
        time.sleep(0.25)
        return super().scan_records(data, base_offset)


def test_pages_matched_while_the_workers_start_count_exactly_like_threads(tmp_path, hasher):
    """The scanning threads match the first pages, the workers the rest: the same tally."""
    from functools import partial

    # 64 pages at a quarter second each on two threads: the workers have 8 s to start, which
    # a loaded machine needs; once they run, they take the rest in well under a second.
    path = values_image(tmp_path, 64, 400, seed=6)
    threads = raw(path, hasher)
    options = RawOptions(
        page_size=PAGE, margin=4096, matcher_factory=partial(RawMatcher, hasher), processes_from=0
    )
    with Target(path) as target:
        mixed = scan_raw(target, _SlowMatcher(hasher), options)
    early = mixed.stats["pages_matched_while_workers_started"]
    assert mixed.stats["worker_processes"] == 2
    assert 0 < early < mixed.stats["pages_data"] == 64  # both ways were used
    assert mixed.tally.counts == threads.tally.counts
    assert mixed.tally.digests == threads.tally.digests
    assert mixed.tally.by_offset == threads.tally.by_offset


def test_workers_that_cannot_start_leave_the_pages_to_threads(tmp_path, hasher, caplog):
    path = image(tmp_path, 4 * PAGE, {100: f" {personnummer(1)} ".encode()})
    options = RawOptions(
        page_size=PAGE,
        margin=4096,
        matcher_factory=lambda: RawMatcher(hasher),  # cannot be sent to a process
        processes_from=0,
        match_while_starting=False,
    )
    result = raw(path, hasher, options)
    assert result.stats["worker_processes"] == 0
    assert result.tally.counts["personnummer"] == 1
    assert "did not start" in caplog.text


def test_block_device_pages_are_read_with_o_direct_and_count_like_the_image(
    tmp_path, hasher, make_loop, monkeypatch
):
    # An odd size (not a multiple of 4 KiB): the last pages' windows end in an unaligned tail,
    # read through the buffered descriptor, and a value planted in that tail is still found.
    size = 3 * PAGE + 512 * 3
    plants = {10: personnummer(5), PAGE - 6: email(6), size - 40: personnummer(7)}
    path = image(tmp_path, size, {o: f" {v} ".encode() for o, v in plants.items()})
    dev = make_loop(image=path)
    used: list[int] = []
    real = Target._read_fully

    def spy(self, buf, offset, want, fd=None):
        used.append(self.fd if fd is None else fd)
        return real(self, buf, offset, want, fd)

    monkeypatch.setattr(Target, "_read_fully", spy)
    with Target(dev) as target:
        assert target.direct_fd >= 0
        direct_fd, buffered_fd = target.direct_fd, target.fd
        on_device = scan_raw(target, RawMatcher(hasher), SMALL)
    assert used.count(direct_fd) == 4  # every page; the unaligned tail of the last two is buffered
    assert used.count(buffered_fd) == 2
    assert on_device.tally.counts == raw(path, hasher).tally.counts
    assert on_device.tally.counts["personnummer"] == 2
    assert on_device.tally.counts["email"] == 1


def test_chance_zlib_headers_that_fail_in_the_first_block_header_are_not_tried():
    """Skipped headers are exactly ones zlib rejects with no output (tried on random bytes)."""
    from scanners import inflate

    rng = random.Random(5)
    skipped = tried = 0
    for _ in range(3000):
        head = rng.choice([b"\x78\x9c", b"\x78\xda", b"\x78\x01", b"\x78\x5e"])
        data = head + rng.randbytes(64)
        if inflate._deflate_may_start(data, 2):
            tried += 1
            continue
        skipped += 1
        try:
            out = zlib.decompressobj(15).decompress(data)
        except zlib.error:
            out = b""
        assert out == b""
    assert skipped > 1000  # about half
    assert [s.kind for s in inflate.find_streams(b"x" + zlib.compress(b"a" * 100))] == ["zlib"]
    stored = zlib.compress(b"stored" * 10, level=0)
    assert [s.kind for s in inflate.find_streams(stored)] == ["zlib"]


def test_a_raw_pass_worker_does_not_import_the_file_pass():
    """A worker process starts before the first page is matched: it imports the fast path only
    (importing `scanners` took 0.44 s, most of it the file pass and its file system libraries)."""
    import subprocess
    import sys

    code = (
        "import sys, scanners.workers, scanners.pagescan, scanners.fastpath\n"
        "print(sorted(m for m in ('scanners.files', 'scanners.scan', 'dissect.volume') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pages_are_merged_beside_the_reading_thread_and_a_failed_merge_is_raised(
    tmp_path, hasher, monkeypatch
):
    """The pages' tallies are merged in a thread of their own (folding digests there kept the
    workers waiting for pages); every page still counts, and a merge that fails fails the
    pass instead of losing the page."""
    from scanners.report import Tally

    plants = {i * PAGE + 100: f" {personnummer(i)} {email(i)} ".encode() for i in range(6)}
    path = image(tmp_path, 6 * PAGE, plants)
    threads: set[str] = set()
    merge = Tally.merge

    def recorded(self, other):
        import threading

        threads.add(threading.current_thread().name)
        return merge(self, other)

    monkeypatch.setattr(Tally, "merge", recorded)
    result = raw(path, hasher, RawOptions(page_size=PAGE, margin=4096))
    assert result.tally.counts["personnummer"] == 6
    assert len(result.tally.digests["email"]) == 6
    assert threads == {"tally-merger"}

    def broken(self, other):
        raise MemoryError("merge failed")

    monkeypatch.setattr(Tally, "merge", broken)
    with pytest.raises(MemoryError):
        raw(path, hasher, RawOptions(page_size=PAGE, margin=4096))
