"""The file pass on real file systems (ext4, FAT, NTFS) behind GPT and MBR tables."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from scanners.fastpath import RawMatcher
from scanners.files import FileOptions, FileScanner
from scanners.raw import RawOptions
from scanners.scan import ScanOptions, scan
from tests.scanners.disks import MISSING, Disk, breaking_walk
from tests.scanners.documents import email, personnummer, totals

CHECKED = ("personnummer", "email")


def per_file(report) -> dict[str, Counter[str]]:
    """File-pass counts per planted file (archive members folded into their file)."""
    out: dict[str, Counter[str]] = {}
    for loc in report.locations:
        if "file" in loc and loc["category"] in CHECKED:
            out.setdefault(loc["file"].split("!", 1)[0], Counter())[loc["category"]] += loc["count"]
    return out


@pytest.fixture(params=["ext4_gpt", "fat_mbr", "ntfs_gpt", "exfat_mbr"])
def disk(request: pytest.FixtureRequest) -> Disk:
    return request.getfixturevalue(request.param)


def test_file_pass_counts_every_planted_file_exactly(disk: Disk, hasher) -> None:
    report = scan(disk.path, hasher, ScanOptions(passes=("files",)))
    expected = {disk.location(rel): Counter(p.files) for rel, p in disk.planted.items() if p.files}
    assert per_file(report) == expected
    sums = totals(disk.planted, "files")
    for category in CHECKED:
        assert report.findings[category].count == sums[category], category
    assert report.not_scannable == ()


def test_file_pass_names_nested_members(ext4_gpt: Disk, hasher) -> None:
    report = scan(ext4_gpt.path, hasher, ScanOptions(passes=("files",)))
    files = {(loc["category"], loc["file"]) for loc in report.locations if "file" in loc}
    assert ("personnummer", "partition 1:/docs/arkiv.zip!inner.zip!hemlig.txt") in files
    assert ("email", "partition 1:/docs/arkiv.zip!a.txt") in files
    assert ("personnummer", "partition 1:/docs/mail.eml!bilaga.txt") in files
    assert ("personnummer", "partition 1:/docs/logg.txt.gz!logg.txt") in files


def test_raw_pass_sees_deleted_and_compressed_data(disk: Disk, hasher) -> None:
    report = scan(disk.path, hasher, ScanOptions(passes=("raw",)))
    sums = totals(disk.planted, "raw")
    for category in CHECKED:
        assert report.findings[category].count == sums[category], category


def deleted_totals(disk: Disk) -> dict[str, int]:
    """What lies only outside live files (the deleted file): the raw pass alone sees it."""
    return totals({k: p for k, p in disk.planted.items() if not p.files}, "raw")


def test_each_occurrence_counted_once_and_distinct_values_as_the_old_overlapping_passes(
    disk: Disk, hasher
) -> None:
    new = scan(disk.path, hasher)
    old = scan(disk.path, hasher, ScanOptions(map_extents=False))
    raw, files = new.pass_results
    old_raw, old_files = old.pass_results
    live, deleted = totals(disk.planted, "files"), deleted_totals(disk)
    for category in CHECKED:
        # The same values both ways...
        union = raw.tally.digests[category] | files.tally.digests[category]
        old_union = old_raw.tally.digests[category] | old_files.tally.digests[category]
        assert union == old_union, category
        assert new.findings[category].distinct == old.findings[category].distinct == len(union)
        # ...but each occurrence once: every planted value in a live file plus the deleted one
        # (the old passes overlapped, so they reported the larger of two partial counts).
        truth = live[category] + deleted.get(category, 0)
        assert new.findings[category].count == truth, category
    # Every planted file is listed under its own path with its own counts, whichever pass read it.
    expected = {disk.location(rel): Counter(p.files) for rel, p in disk.planted.items() if p.files}
    assert per_file(new) == expected
    assert raw.stats["findings_given_way"] > 0
    assert files.stats["files_matched_by_raw"] >= 3  # notes.txt, latin1.txt, utf16.txt
    # Each planted personnummer is a different value; the raw pass misses the base64 attachment
    # and the file pass the deleted file, so only the union has them all.
    assert new.findings["personnummer"].distinct == totals(disk.planted, "raw")["personnummer"] + 1


def test_report_holds_no_values(ext4_gpt: Disk, hasher) -> None:
    text = str(scan(ext4_gpt.path, hasher).to_dict())
    for n in (1, 10, 30, 40, 41, 70, 80):
        assert personnummer(n) not in text
        assert personnummer(n).replace("-", "") not in text
    assert email(1) not in text
    assert "testsson" not in text


def test_text_over_the_nlp_budget_goes_through_the_fast_path_with_the_same_counts(
    ext4_gpt: Disk, hasher
) -> None:
    from scanners.files import FileOptions

    options = ScanOptions(passes=("files",), files=FileOptions(nlp_max_chars=0))
    report = scan(ext4_gpt.path, hasher, options)
    expected = {
        ext4_gpt.location(rel): Counter(p.files) for rel, p in ext4_gpt.planted.items() if p.files
    }
    assert per_file(report) == expected
    assert report.pass_results[0].stats["texts_fast_path"] > 0


class _NoAtSign(RawMatcher):
    """A matcher that fails on bytes holding an '@' (a parser bug, as far as the pass knows)."""

    def scan(self, data, base_offset=0):
        if b"@" in bytes(data):
            raise ValueError("made to fail")
        return super().scan(data, base_offset)

    def scan_records(self, data, base_offset=0):
        if b"@" in bytes(data):
            raise ValueError("made to fail")
        return super().scan_records(data, base_offset)


class _DiesInAWorker(RawMatcher):
    """A matcher whose worker process dies at its first job; in the scanning process it works."""

    def scan(self, data, base_offset=0):
        if multiprocessing.parent_process() is not None:
            os._exit(3)
        return super().scan(data, base_offset)

    def scan_records(self, data, base_offset=0):
        if multiprocessing.parent_process() is not None:
            os._exit(3)
        return super().scan_records(data, base_offset)


def _both(hasher, factory=None, **files) -> ScanOptions:
    return ScanOptions(
        raw=RawOptions(matcher_factory=factory and partial(factory, hasher)),
        files=FileOptions(**files),
    )


def _same(a, b) -> None:
    assert a.findings == b.findings
    assert sorted(a.locations, key=repr) == sorted(b.locations, key=repr)
    assert a.not_scannable == b.not_scannable
    assert a.by_allocation == b.by_allocation


def test_file_pass_in_worker_processes_counts_exactly_as_in_its_thread(
    ext4_gpt: Disk, hasher
) -> None:
    """Both passes, the file pass's matching in two processes or in its own thread: the same
    counts, distinct values, locations and unread regions; the jobs really went out."""
    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))
    there = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=0))
    assert there.pass_results[1].stats["offloaded_jobs"] > 12
    assert "offloaded_jobs" not in here.pass_results[1].stats
    assert here.findings["person_name"].count > 0
    assert here.findings["email"].count > 0
    _same(here, there)
    # Started in the middle of the pass, once the pass's thread has spent a moment matching.
    later = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=1 << 40, offload_after=1e-9))
    stats = later.pass_results[1].stats
    assert stats["offloaded_after_bytes"] > 0
    assert stats["offloaded_jobs"] > 10
    _same(here, later)
    alone = scan(
        ext4_gpt.path,
        hasher,
        ScanOptions(passes=("files",), files=FileOptions(processes_from=None)),
    )
    alone_there = scan(
        ext4_gpt.path, hasher, ScanOptions(passes=("files",), files=FileOptions(processes_from=0))
    )
    _same(alone, alone_there)


def _room(busy: bool | random.Random):  # type: ignore[no-untyped-def]
    """`Offload.has_room` that says no always (True), never (False) or at random."""
    from scanners.filework import Offload

    has_room = Offload.has_room

    def room(self, size):  # type: ignore[no-untyped-def]
        if busy is True or (not isinstance(busy, bool) and busy.random() < 0.5):
            return False
        return has_room(self, size)

    return room


def test_jobs_queued_for_busy_workers_count_as_in_order(
    ext4_gpt: Disk, hasher, monkeypatch
) -> None:
    """Jobs the workers have no room for wait in a queue while the walk goes on (to the
    volume's end at most) and keep their numbers: the same counts, locations and unread
    regions, in the same order, as the pass's own thread reading each file in turn. Tried:
    no room ever, room always, and at random (four seeds)."""
    from scanners.filework import Offload

    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))
    for busy in [True, False, *(random.Random(seed) for seed in range(4))]:
        monkeypatch.setattr(Offload, "has_room", _room(busy))
        there = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=0))
        stats = there.pass_results[1].stats
        if busy is True:  # every job waits for the volume's end
            assert stats["jobs_queued"] >= 3
        # The workers read those files' heads themselves (`HeadJob`): the same names.
        assert stats["heads_read_by_workers"] == stats["files_matched_by_raw"] >= 3
        assert "heads_read_by_workers" not in here.pass_results[1].stats
        _same(here, there)


def test_the_queue_holds_a_bounded_number_of_runs(ext4_gpt: Disk, hasher, monkeypatch) -> None:
    """Queued jobs hold their files' runs: past `MAX_QUEUED_RUNS` of them the oldest job is
    sent even though the workers have no room, so a drive of fragmented files cannot fill
    memory with waiting jobs. Fails without the bound (the queue then holds every job)."""
    import scanners.files
    from scanners.filework import Offload

    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))
    monkeypatch.setattr(scanners.files, "MAX_QUEUED_RUNS", 2)
    monkeypatch.setattr(Offload, "has_room", _room(True))
    send, held = FileScanner._send_queued, []

    def sending(self, keep=scanners.files.MAX_QUEUED):  # type: ignore[no-untyped-def]
        send(self, keep)
        held.append(self._queued_runs)

    monkeypatch.setattr(FileScanner, "_send_queued", sending)
    there = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=0))
    assert there.pass_results[1].stats["jobs_queued"] >= 3
    assert 0 < max(held) <= 2
    _same(here, there)


def test_queued_jobs_keep_the_order_of_problems(tmp_path: Path, hasher, monkeypatch):
    """Problems keep their walk order while jobs wait for busy workers: six zip members over
    the unpack limit between raw-read files, two of which cannot be read; queued every time
    and at random (four seeds). Fails when a queued job's problem takes a number when it is
    sent instead of its own."""
    import zipfile

    from scanners import formats
    from scanners.filework import Offload
    from tests.scanners.images import MiB, make_fs, tools_missing

    if tools_missing():
        pytest.skip("mkfs.ext4 is not installed")
    source = tmp_path / "src"
    for d in range(6):
        folder = source / f"d{d}"
        folder.mkdir(parents=True)
        (folder / "a.txt").write_text(f"Kund Anna Berg, anna{d}@example.se, 19811218-9876\n" * 20)
        with zipfile.ZipFile(folder / "b.zip", "w") as z:
            z.writestr("big.txt", "x" * 5000)
        (folder / "c.txt").write_text(f"Ring 070-123 45 6{d}, Erik Lund\n" * 30)
    image = make_fs("ext4", tmp_path / "fs.img", 8 * MiB, source)
    small = formats.Limits(max_member=1000)
    # Raw-read files with a problem of their own: two of them cannot be read.
    seams = FileScanner._seams

    def unreadable(ref):  # type: ignore[no-untyped-def]
        if ref.path.endswith(("d1/a.txt", "d4/c.txt")):
            raise OSError("unreadable sectors")
        return seams(ref)

    monkeypatch.setattr(FileScanner, "_seams", staticmethod(unreadable))

    def options(processes_from: int | None) -> ScanOptions:
        return ScanOptions(files=FileOptions(processes_from=processes_from, limits=small))

    here = scan(image, hasher, options(None))
    assert len(here.not_scannable) >= 8
    assert [u.region for u in here.not_scannable if "could not be read" in u.reason] == [
        "/d1/a.txt",
        "/d4/c.txt",
    ]
    for busy in [True, *(random.Random(seed) for seed in range(4))]:
        monkeypatch.setattr(Offload, "has_room", _room(busy))
        there = scan(image, hasher, options(0))
        # Ten readable raw-read files' heads and six zip files: all but the first wait.
        assert there.pass_results[1].stats.get("jobs_queued", 0) >= (15 if busy is True else 0)
        _same(here, there)


def test_a_worker_that_dies_leaves_its_jobs_to_the_scanning_thread(ext4_gpt: Disk, hasher) -> None:
    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))
    there = scan(ext4_gpt.path, hasher, _both(hasher, _DiesInAWorker, processes_from=0))
    _same(here, there)
    # The other worker is ended and waited for: none outlives the scan with the drive open.
    assert multiprocessing.active_children() == []


def test_a_job_that_fails_reports_its_file_and_the_pass_goes_on(ext4_gpt: Disk, hasher) -> None:
    report = scan(
        ext4_gpt.path,
        hasher,
        ScanOptions(
            passes=("files",),
            raw=RawOptions(matcher_factory=partial(_NoAtSign, hasher)),
            files=FileOptions(processes_from=0),
        ),
    )
    failed = [u for u in report.not_scannable if "could not be matched: " in u.reason]
    assert failed
    assert all(u.region.startswith("partition 1:/") for u in failed)
    assert report.findings["personnummer"].count > 0  # files without an '@' were matched


def test_offloaded_jobs_wait_within_their_byte_bound(hasher) -> None:
    """At most `in_flight_bytes` of jobs wait (one larger job alone may), and every job's
    tally comes back: the same counts as matching here."""
    from scanners.filework import Offload, run_with
    from scanners.report import Tally
    from tests.scanners.documents import email

    got, here = Tally(), Tally()
    jobs = [
        (f"/f{i}", ("".join(f" {email(i * 1000 + j)} " for j in range(n))).encode(), "")
        for i, n in enumerate([9000, 100, 40000, 20, 9000, 9000, 3])
    ]
    off = Offload(
        partial(RawMatcher, hasher),
        hasher,
        lambda path, t, tag: got.merge(t),
        in_flight=100,
        in_flight_bytes=400_000,
    )
    waited = []
    try:
        assert off._ready(wait=True)  # jobs go to the workers once they run
        for path, data, text in jobs:
            off.submit(path, data, text)
            waited.append((off._waiting_bytes, len(off._pending)))
            here.merge(run_with(RawMatcher(hasher), hasher, path, data, text))
        off.finish()
    finally:
        off.close()
    assert all(b <= 400_000 or n == 1 for b, n in waited), waited
    assert any(n > 1 for _, n in waited)
    assert got.counts == here.counts
    assert got.counts["email"] == 9000 * 3 + 100 + 40000 + 20 + 3
    assert got.by_file == here.by_file


def test_jobs_submitted_while_the_workers_start_are_matched_here_and_counted(hasher) -> None:
    """The workers start in a thread of their own; jobs that come before they run are matched
    in the submitting thread, later ones in the workers, and nothing is lost or counted twice.
    Failed on the old code, whose submit waited for the spawn (no job matched here)."""
    from scanners.filework import Offload, run_with
    from scanners.report import Tally
    from tests.scanners.documents import email

    got, here = Tally(), Tally()
    jobs = [
        (f"/f{i}", ("".join(f" {email(i * 1000 + j)} " for j in range(300))).encode(), "")
        for i in range(400)
    ]
    off = Offload(partial(RawMatcher, hasher), hasher, lambda path, t, tag: got.merge(t))
    try:
        for i, (path, data, text) in enumerate(jobs):
            if i == len(jobs) // 2:
                early = off.jobs_here_while_starting
                assert off._ready(wait=True)
            off.submit(path, data, text)
            here.merge(run_with(RawMatcher(hasher), hasher, path, data, text))
        off.finish()
    finally:
        off.close()
    assert early > 0  # the first came before an interpreter could start
    assert off.jobs_here_while_starting == early  # and all after the start went to the workers
    assert got.counts == here.counts
    assert got.counts["email"] == 400 * 300
    assert got.by_file == here.by_file
    assert got.digests == here.digests


def test_workers_that_cannot_start_leave_the_jobs_to_the_scanning_thread(
    ext4_gpt: Disk, hasher, monkeypatch
) -> None:
    """A scan inside a daemonic process cannot start worker processes: the file pass matches
    in its own thread instead of reporting the file system unreadable."""
    from concurrent.futures import ProcessPoolExecutor

    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))

    def refuse(*args, **kwargs):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    there = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=0))
    _same(here, there)


def test_the_workers_are_all_spawned_before_the_first_job(hasher) -> None:
    """A pool that spawned a worker on demand, while a worker that had died broke it, waited
    for the new worker forever at exit (CPython 3.11): the test run hung after its last test."""
    import psutil

    from scanners.filework import Offload

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    off = Offload(partial(RawMatcher, hasher), hasher, lambda path, t, tag: None, workers=3)
    try:
        workers: list[psutil.Process] = []
        deadline = time.monotonic() + 10
        while len(workers) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            # Forked by the forkserver (our child, started by the first pool of the run).
            new = [p for p in me.children(recursive=True) if p.pid not in before]
            workers = [p for p in new if p.ppid() != me.pid]
        assert len(workers) == 3
    finally:
        off.close()


@pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} is not installed")
def test_problems_from_workers_keep_their_place(tmp_path, hasher) -> None:
    """Whole files counted in workers report their problems later than the pass's thread
    would: the report lists every problem in the order the thread alone gives, among problems
    the thread finds itself (an over-limit file, an unreadable member) and files it extracts
    itself (past `WHOLE_FILE_JOB`)."""
    import gzip
    import zipfile

    from scanners.files import WHOLE_FILE_JOB
    from tests.scanners.images import MiB, make_fs

    source = tmp_path / "files"
    source.mkdir()
    text = "".join(f"Kund {personnummer(i)}, {email(i)}\n" for i in range(300)).encode()
    for i in range(6):
        (source / f"{i}a_bomb.txt.gz").write_bytes(gzip.compress(b"\n" * (33 << 20)))
        (source / f"{i}b_ok.txt").write_bytes(text)
        (source / f"{i}c_broken.zip").write_bytes(b"PK\x03\x04" + os.urandom(3000))
        (source / f"{i}d_large.txt").write_bytes(text * (WHOLE_FILE_JOB // len(text) + 2))
        with zipfile.ZipFile(source / f"{i}e_deep.zip", "w") as z:
            z.writestr("x.gz", gzip.compress(gzip.compress(gzip.compress(gzip.compress(text)))))
        (source / f"{i}f_huge.txt").write_bytes(b"x" * (33 << 20))
    image = make_fs("ext4", tmp_path / "fs.img", 512 * MiB, source)
    here = scan(
        image, hasher, ScanOptions(passes=("files",), files=FileOptions(processes_from=None))
    )
    there = scan(image, hasher, ScanOptions(passes=("files",), files=FileOptions(processes_from=0)))
    assert there.pass_results[0].stats["offloaded_jobs"] > 20
    reasons = Counter(u.reason.split(" (")[0].split(":")[0] for u in here.not_scannable)
    assert len(reasons) >= 3, reasons
    assert len(here.not_scannable) >= 18
    assert here.not_scannable == there.not_scannable
    assert here.findings == there.findings


def test_queued_jobs_are_sent_when_the_walk_fails(ext4_gpt: Disk, hasher, monkeypatch) -> None:
    """A file system whose walk breaks part-way (a corrupt directory): the jobs it gave before
    that, still waiting for busy workers, are sent all the same, and count as the pass's own
    thread counts them in turn. Fails when they are sent only at the walk's normal end.

    Both walks break (the map's, which the file pass goes through, and the file pass's own),
    as they do on a corrupt file system."""
    import scanners.extents
    import scanners.files
    from scanners.filework import Offload

    breaking = breaking_walk(scanners.files.walk, 19)
    monkeypatch.setattr(scanners.files, "walk", breaking)
    monkeypatch.setattr(scanners.extents, "walk", breaking)
    here = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=None))
    assert any("file system could not be read" in u.reason for u in here.not_scannable)
    monkeypatch.setattr(Offload, "has_room", _room(True))  # all wait for the end
    there = scan(ext4_gpt.path, hasher, _both(hasher, processes_from=0))
    assert there.pass_results[1].stats["jobs_queued"] >= 1
    _same(here, there)


def test_file_pass_reads_the_drive_about_once_not_a_buffer_per_file(
    tmp_path: Path, hasher, monkeypatch
) -> None:
    """Small files and their inodes cost their blocks, not a read buffer each.

    At a 1 MiB read buffer the file pass read 6.6 GB of the 1.02 GB mixed image: every small
    file's first read and every inode refilled it. Counted at the target, under the buffer.
    """
    from scanners import target as target_module
    from tests.scanners.images import MiB, Volume, build_disk, make_fs

    src = tmp_path / "src"
    for i in range(400):
        folder = src / f"kund{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"brev{i}.txt").write_text(f"Hej {email(i)}\n" * 40)
    fs = make_fs("ext4", tmp_path / "t.fs", 32 * MiB, src)
    disk = tmp_path / "small.img"
    build_disk(disk, "gpt", [Volume("ext4", 32 * MiB, image=fs)])
    read = [0]
    pread = target_module.Target.pread

    def counted(self, offset: int, length: int, bad=None) -> bytes:
        data = pread(self, offset, length, bad)
        read[0] += len(data)
        return data

    monkeypatch.setattr(target_module.Target, "pread", counted)
    report = scan(disk, hasher, ScanOptions(passes=("files",)))
    assert report.findings["email"].count == 400 * 40
    assert read[0] < 2 * disk.stat().st_size  # 1 MiB a file would be 400 MiB


def test_small_jobs_travel_in_batches_and_each_reports_its_own_outcome(hasher) -> None:
    """Jobs go to the workers together while they are busy; each still comes back on its own
    with its tag, and one that fails (an '@' in it) reports only its own file."""
    from scanners.errors import error_kind
    from scanners.filework import Offload
    from tests.scanners.documents import personnummer

    outcomes: dict[int, tuple[str, object]] = {}
    off = Offload(
        partial(_NoAtSign, hasher),
        hasher,
        lambda path, outcome, tag: outcomes.__setitem__(tag, (path, outcome)),
        in_flight=4,
    )
    n = 400
    try:
        assert off._ready(wait=True)
        for i in range(n):
            text = f"kund {personnummer(i)} " * 200 + ("anna@example.se" if i % 7 == 0 else "")
            off.submit(f"/f{i}", text.encode(), "", tag=i)
        off.finish()
    finally:
        off.close()
    assert sorted(outcomes) == list(range(n))
    assert all(path == f"/f{tag}" for tag, (path, _) in outcomes.items())
    failed = {tag for tag, (_, outcome) in outcomes.items() if isinstance(outcome, BaseException)}
    assert failed == {i for i in range(n) if i % 7 == 0}
    assert {error_kind(outcomes[tag][1]) for tag in failed} == {"ValueError"}  # type: ignore[arg-type]
    counted = sum(
        o.counts["personnummer"] for _, o in outcomes.values() if not isinstance(o, BaseException)
    )  # type: ignore[union-attr]
    assert counted == (n - len(failed)) * 200
    assert 0 < off.batches < n


def test_a_head_a_worker_cannot_read_is_its_files_problem(tmp_path: Path, hasher) -> None:
    """A worker reads a raw-read file's head itself; a read that fails (the drive gone) is
    reported for that file as the pass's own thread reports it, and counts nothing."""
    from scanners.fastpath import RawMatcher
    from scanners.filejob import HeadJob, Placed, count_head

    gone = HeadJob(Placed(str(tmp_path / "gone.img"), 0, ((0, 4096),)), 4096, 1 << 20)
    outcome = count_head(RawMatcher(hasher), hasher, "/brev.txt", gone)
    assert [(p, r.split(":")[0]) for p, r in outcome.problems] == [
        ("/brev.txt", "file could not be read")
    ]
    assert outcome.tally.total == 0
    assert outcome.ranges_read == ()
    image = tmp_path / "ok.img"
    image.write_bytes(b"Brev till Anna Berg.\n".ljust(8192, b" "))
    read = count_head(
        RawMatcher(hasher),
        hasher,
        "/brev.txt",
        HeadJob(Placed(str(image), 0, ((0, 4096),)), 4096, 1 << 20),
    )
    assert read.problems == []
    assert sum(n for _, n in read.ranges_read) == 4096
    assert read.tally.counts["person_name"] == 1
    from scanners import filejob

    assert filejob._TARGETS == {}  # the pass's own process keeps no drive open after a job


@pytest.mark.skipif(shutil.which("mkfs.btrfs") is None, reason="btrfs-progs is not installed")
def test_a_file_a_worker_reads_over_unreadable_sectors_is_reported_as_the_thread_does(
    tmp_path: Path, hasher, make_loop
) -> None:
    """Attack: a table whose middle block fails with a real EIO (an ext4 image inside btrfs,
    its block corrupted under btrfs's checksums). The worker that reads the table itself
    (`FileJob.where`) reports the unreadable sectors for that file, as the pass's own thread
    does, and counts the rest of it the same."""
    from tests.scanners.images import eio_file, table_image

    data, at = table_image(tmp_path, "ref", lambda i: f"x{i:07d}")
    with eio_file(tmp_path, make_loop, data, [at]) as path:

        def files(processes_from: int | None):  # type: ignore[no-untyped-def]
            options = ScanOptions(
                passes=("files",), files=FileOptions(processes_from=processes_from)
            )
            return scan(path, hasher, options)

        here, there = files(None), files(0)
    assert there.pass_results[0].stats["files_read_by_workers"] == 1
    for report in (here, there):
        assert [(u.region, u.reason) for u in report.not_scannable] == [
            ("/kunder.csv", "unreadable sectors (EIO) in the file's data")
        ]
    assert 450 < here.findings["personnummer"].count < 599  # a block of rows unread
    _same(here, there)


def _head_in_a_child(image: str) -> int:
    """A station's per-drive process running a head job itself: the targets it keeps open."""
    from scanners.fastpath import RawMatcher
    from scanners.filejob import _TARGETS, HeadJob, Placed, count_head
    from scanners.findings import ValueHasher

    hasher = ValueHasher(bytes(32))
    count_head(
        RawMatcher(hasher), hasher, "/a.txt", HeadJob(Placed(image, 0, ((0, 4096),)), 4096, 4096)
    )
    return len(_TARGETS)


def test_a_child_process_running_a_scan_keeps_no_drive_open_after_a_job(tmp_path: Path) -> None:
    """Only the file pass's workers keep a target open (they end with the scan); a process
    that runs the scan, even a child of another (a station's per-drive process), opens and
    closes it for each job it runs itself. Fails where 'not the main process' decided."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    image = tmp_path / "d.img"
    image.write_bytes(b"Anna Berg\n".ljust(4096))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_head_in_a_child, str(image)).result() == 0


def test_hard_links_read_by_workers_count_their_blocks_once(tmp_path: Path, hasher) -> None:
    """Attack: a 1 MB letter with 20 hard links on a 16 MB volume. Every link is a raw-read
    file whose head a worker reads itself; counted as bytes, the file pass reported reading
    22 MB of a 16 MB target. Blocks a worker read count once, as the pass's own reads do:
    the same figure as the thread's, never more than the target."""
    from tests.scanners.images import MiB, make_fs

    src = tmp_path / "src"
    src.mkdir()
    (src / "brev.txt").write_text("Hej Anna Berg, välkommen.\n" * 40_000)
    for i in range(20):
        os.link(src / "brev.txt", src / f"kopia{i}.txt")
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)

    def files_pass(processes_from: int | None) -> int:
        options = ScanOptions(files=FileOptions(processes_from=processes_from))
        report = scan(image, hasher, options)
        return report.pass_results[1].bytes_scanned

    here, there = files_pass(None), files_pass(0)
    assert there <= 16 * MiB
    assert there == here
