"""Workers die with their parent: after a SIGKILL of `process` or `watch`, nothing holds the drive.

Before, the raw pass's worker processes outlived a killed `process` (blocked on their queue,
the drive open), and watch's bay workers went on wiping for minutes after watch was killed. The
oracle is the kernel's own list of open descriptors (/proc/*/fd), read within 2 s of the kill.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
from sqlalchemy import select

from asset_pipeline.storage import Device
from tests.asset_pipeline.flow.conftest import open_batch
from tests.conftest import MiB, needs_loop

GRACE = 2.0  # seconds after the SIGKILL within which nothing may hold the drive
LINGER = 30.0  # by then every process the CLI started must be gone


def holders(dev: Path) -> set[int]:
    """Pids of every process with a descriptor on the block device `dev`."""
    rdev = os.stat(dev).st_rdev
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(fd)
            except OSError:
                continue
            if stat.S_ISBLK(st.st_mode) and st.st_rdev == rdev:
                found.add(int(proc.name))
    return found


@contextmanager
def station_cli(station, *args: str) -> Iterator[subprocess.Popen[str]]:
    """The CLI in its own process; afterwards every process it started is killed by its pid."""
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    cmd = [sys.executable, "-m", "asset_pipeline", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    seen: set[int] = set()
    try:
        yield proc
    finally:
        seen |= _descendants(proc.pid)
        proc.kill()
        proc.wait()
        for pid in seen:  # orphans of the old code: ours, so ended here
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def kill_and_wait_for_release(proc: subprocess.Popen[str], dev: Path) -> set[int]:
    """SIGKILL `proc`; what holds `dev` GRACE seconds later or at any moment after (empty: none).

    A drive free for one instant proves nothing (a worker between two steps has it closed), so
    the drive is watched from GRACE seconds after the kill until every process `proc` had
    started is dead: a dead process holds nothing later. A worker still starting its interpreter
    at the kill (seconds under load) must end without ever opening the drive.
    """
    children = _descendants(proc.pid)
    proc.kill()
    proc.wait()
    killed = time.monotonic()
    while holders(dev) and time.monotonic() < killed + GRACE:
        time.sleep(0.05)
    held: set[int] = set()
    while time.monotonic() < killed + LINGER:
        held |= holders(dev)
        if not any(_alive(pid) for pid in children):
            break
        time.sleep(0.05)
    else:
        held |= {pid for pid in children if _alive(pid)}  # lived on: as good as holding it
    for pid in children:  # so that the test's own cleanup can detach the device
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return held


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _fill_tail(image: Path, start: int, size: int) -> None:
    """Dense text after `start`: the raw pass must confirm values page by page, for seconds.

    The scan's threads match pages while its workers start; random bytes (no candidates) were
    matched in under a second, and on a loaded machine (CI) the whole raw pass ended before
    any worker had taken a page, so no worker ever held the drive. Text with an e-mail, a
    phone number and an IPv4 address per line keeps threads at ~30 MB/s (32 s for this tail
    without workers), where workers start in one to three seconds.
    """
    lines = []
    for i in range(100_000):
        n = 10_000_000 + i * 7919
        lines.append(
            f"order {n} kund{n}@exempel.se tel 070-{n % 1000:03d} {n % 100:02d} "
            f"{n // 100 % 100:02d} from 10.{n % 256}.{n // 256 % 256}.{n % 7}\n"
        )
    block = "".join(lines).encode()
    with image.open("r+b") as f:
        f.seek(start)
        while f.tell() < size:
            f.write(block[: size - f.tell()])


@needs_loop
def test_killed_process_leaves_no_scan_worker_holding_the_drive(
    station, make_loop, customer_drive
) -> None:
    batch = open_batch(station, discovery=True)
    drive = customer_drive(size=1024 * MiB)  # at 1 GiB the raw pass matches in processes
    _fill_tail(drive.image, 64 * MiB, 1024 * MiB)
    dev = make_loop(image=drive.image, direct_io=True)
    shared_before = set(Path("/dev/shm").iterdir())
    with station_cli(station, "process", str(dev), "--batch", str(batch), "--yes") as proc:
        deadline = time.monotonic() + 120
        while not holders(dev) & _descendants(proc.pid):  # a scan worker has the drive open
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no scan worker opened the drive"
            time.sleep(0.02)
        assert kill_and_wait_for_release(proc, dev) == set()
    # The pages and the workers' context lived in shared memory: the resource tracker of the
    # killed scan removes them (a context file written to /dev/shm stayed behind).
    deadline = time.monotonic() + LINGER
    while set(Path("/dev/shm").iterdir()) - shared_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(Path("/dev/shm").iterdir()) - shared_before == set()


@needs_loop
def test_killed_watch_leaves_no_bay_worker_holding_the_drive(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    batch = open_batch(station, discovery=False)
    drive = customer_drive(size=1024 * MiB)
    dev = make_loop(image=drive.image, direct_io=True)
    args = ("watch", "--batch", str(batch), "--bays", f"{tmp_path}/kund-*.img", "--json")
    with station_cli(station, *args) as proc:
        deadline = time.monotonic() + 120
        while not (_state(station, batch) == "sanitizing" and holders(dev)):  # mid-wipe
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the drive was never being wiped"
            time.sleep(0.02)
        assert kill_and_wait_for_release(proc, dev) == set()


def _state(station, batch: int) -> str | None:
    with station.session() as session:
        device = session.scalar(select(Device).where(Device.batch_id == batch))
        return device.state if device is not None else None
