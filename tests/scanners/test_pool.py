"""One pool of worker processes for both passes (`scanners.pool`): started once, while the map
is drawn, only where a file system is; the same report as threads; cleaned up; a worker that
dies leaves the rest of the work to the passes' threads."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from dataclasses import replace
from functools import partial
from multiprocessing import shared_memory
from pathlib import Path

import pytest

from scanners import filework, pool, workers
from scanners.fastpath import RawMatcher
from scanners.files import FileOptions
from scanners.raw import RawOptions
from scanners.scan import ScanOptions, scan
from tests.scanners.disks import Disk
from tests.scanners.documents import personnummer
from tests.scanners.images import MiB

THREADS = ScanOptions(raw=RawOptions(processes_from=None), files=FileOptions(processes_from=None))
# A small image's pages are all matched in threads before workers run, unless it waits for them.
POOL = RawOptions(processes_from=0, match_while_starting=False)


def _same(a, b) -> None:
    assert a.findings == b.findings
    assert sorted(a.locations, key=repr) == sorted(b.locations, key=repr)
    assert a.not_scannable == b.not_scannable
    assert a.by_allocation == b.by_allocation


@pytest.fixture
def spawned(monkeypatch) -> list[str]:
    """The initializer of every pool spawned, by module (raw pass, file pass or shared)."""
    seen: list[str] = []
    real = workers.spawn_pool

    def spawn(count, initializer, *args, **kwargs):
        seen.append(initializer.__module__)
        return real(count, initializer, *args, **kwargs)

    monkeypatch.setattr(workers, "spawn_pool", spawn)
    monkeypatch.setattr(filework, "spawn_pool", spawn)
    return seen


@pytest.fixture
def contexts(monkeypatch) -> list[str]:
    written: list[str] = []
    real = pool.write_context

    def write(context):
        block = real(context)
        written.append(block.name)
        return block

    monkeypatch.setattr("scanners.raw.write_context", write)
    return written


def test_one_pool_serves_both_passes_and_counts_as_threads(
    ext4_gpt: Disk, hasher, spawned, contexts
) -> None:
    here = scan(ext4_gpt.path, hasher, THREADS)
    assert spawned == []
    shared = scan(ext4_gpt.path, hasher, ScanOptions(raw=POOL))
    assert spawned == ["scanners.pool"]  # once, for both passes
    raw, files = shared.pass_results
    assert raw.stats["worker_processes"] == 2
    assert files.stats["offloaded_jobs"] > 10
    assert files.stats["offloaded_after_bytes"] == 0  # the workers were there from the start
    _same(here, shared)
    assert len(contexts) == 1
    with pytest.raises(FileNotFoundError):  # the raw pass's context block is gone
        shared_memory.SharedMemory(name=contexts[0])
    assert multiprocessing.active_children() == []  # and so are the workers


def test_raw_only_uses_the_pool_and_counts_as_threads(ext4_gpt: Disk, hasher, spawned) -> None:
    here = scan(ext4_gpt.path, hasher, ScanOptions(passes=("raw",), raw=THREADS.raw))
    shared = scan(ext4_gpt.path, hasher, ScanOptions(passes=("raw",), raw=POOL))
    assert spawned == ["scanners.pool"]
    assert shared.pass_results[0].stats["worker_processes"] == 2
    _same(here, shared)


def test_a_wiped_target_starts_no_worker(tmp_path: Path, hasher, spawned) -> None:
    """Zeros but a value in the last page: no file system, so the raw pass starts its own
    workers at its first data page, as before, and only then."""
    path = tmp_path / "wiped.img"
    with open(path, "wb") as f:
        f.truncate(32 * MiB)
    scan(path, hasher, ScanOptions(raw=RawOptions(processes_from=0)))
    assert spawned == []
    with open(path, "r+b") as f:
        f.seek(31 * MiB)
        f.write(f" {personnummer(3)} ".encode())
    report = scan(path, hasher, ScanOptions(raw=RawOptions(processes_from=0)))
    assert report.findings["personnummer"].count == 1
    assert spawned == ["scanners.workers"]


class _DiesOnFileJobs(RawMatcher):
    """A matcher whose worker dies at its first file-pass job; pages it matches."""

    def scan(self, data, base_offset=0):
        if multiprocessing.parent_process() is not None and any(
            frame.filename.endswith("filework.py") for frame in traceback.extract_stack()
        ):
            os._exit(3)
        return super().scan(data, base_offset)

    def scan_records(self, data, base_offset=0):
        if multiprocessing.parent_process() is not None and any(
            frame.filename.endswith("filework.py") for frame in traceback.extract_stack()
        ):
            os._exit(3)
        return super().scan_records(data, base_offset)


def test_a_worker_that_dies_in_the_file_pass_leaves_it_to_the_thread(
    ext4_gpt: Disk, hasher, spawned
) -> None:
    here = scan(ext4_gpt.path, hasher, THREADS)
    options = ScanOptions(raw=replace(POOL, matcher_factory=partial(_DiesOnFileJobs, hasher)))
    there = scan(ext4_gpt.path, hasher, options)
    assert spawned == ["scanners.pool"]
    assert there.pass_results[0].stats["worker_processes"] == 2
    _same(here, there)
    assert multiprocessing.active_children() == []


def test_file_pass_told_to_use_no_processes_uses_none(ext4_gpt: Disk, hasher, spawned) -> None:
    """The raw pass's workers do not overrule a file pass set to match in its own thread."""
    options = ScanOptions(raw=POOL, files=FileOptions(processes_from=None))
    report = scan(ext4_gpt.path, hasher, options)
    assert spawned == ["scanners.pool"]
    assert "offloaded_jobs" not in report.pass_results[1].stats
    _same(scan(ext4_gpt.path, hasher, THREADS), report)


def test_a_worker_lets_go_of_a_page_a_reference_cycle_still_views(tmp_path: Path, hasher) -> None:
    """A worker closes its page blocks before the file pass, even with cyclic garbage about.

    A phone number that libphonenumber refuses (`+999`: no such country) raises inside its
    check, in a compressed stream of the page: the caught exception's traceback keeps the
    frames that matched, which hold the stream's reader and so a view of the block. With the
    collector not run since (a raw pass of records makes few objects), closing the block
    failed, and the worker's first file-pass job with it: a file reported not scannable.
    """
    import gc
    import gzip

    from scanners.inflate import Limits
    from scanners.pagescan import PageMatcher
    from scanners.target import Target

    data = b"plain text\n" * 100 + gzip.compress(b"ring +999 12345678 nu\n" * 100) + b"\0" * 999
    path = tmp_path / "page.bin"
    path.write_bytes(data)
    block = shared_memory.SharedMemory(create=True, size=len(data))
    try:
        block.buf[: len(data)] = data
        was_on = gc.isenabled()
        gc.disable()
        try:
            workers.serve(
                lambda: PageMatcher(Target(str(path)), RawMatcher(hasher), 4096, Limits())
            )
            workers._STATE["shm"] = {block.name: shared_memory.SharedMemory(name=block.name)}
            outcome = workers.scan_shared(block.name, len(data), 0, len(data), 0, ())
            assert outcome.streams == 1
            workers.let_go()  # raised BufferError before
            assert workers._STATE["shm"] == {}
        finally:
            if was_on:
                gc.enable()
    finally:
        workers.let_go()
        block.close()
        block.unlink()


_BUSY_PROGRAM = """
import time
from scanners import workers

def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

def nothing():
    pass

if __name__ == "__main__":
    pool = workers.spawn_pool(2, nothing, (), wait=True)
    for f in [pool.submit(busy, 0.6) for _ in range(2)]:
        f.result()
    pool.shutdown(wait=True)
"""


def test_the_workers_cpu_counts_for_the_process_that_started_them(tmp_path: Path) -> None:
    """Workers are the forkserver's children: the server is waited for at exit, so their CPU
    shows in the starter's wait4 (as `time` and the benches read it), not lost with them."""
    import subprocess
    import sys

    program = tmp_path / "busy.py"
    program.write_text(_BUSY_PROGRAM)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(program)], env=env, cwd=tmp_path)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_utime + usage.ru_stime >= 1.2  # both workers' 0.6 s of CPU


_HELD_PROGRAM = """
import threading
from multiprocessing import forkserver
from scanners import workers

def nothing():
    pass

if __name__ == "__main__":
    workers.spawn_pool(1, nothing, (), wait=True).shutdown(wait=True)
    forkserver._forkserver._lock.acquire()  # as a daemon thread starting a worker would
"""


def test_an_exit_with_the_forkserver_busy_is_not_held_up(tmp_path: Path) -> None:
    """Attack: the process exits while the forkserver's lock is held (a daemon thread in the
    middle of starting a worker): the wait for the server gives up, the process still ends."""
    import subprocess
    import sys
    import time

    program = tmp_path / "held.py"
    program.write_text(_HELD_PROGRAM)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    began = time.monotonic()
    subprocess.run([sys.executable, str(program)], env=env, cwd=tmp_path, check=True, timeout=60)
    assert time.monotonic() - began < 30
