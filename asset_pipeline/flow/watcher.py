"""Station mode: wait for drives, run one worker process per drive, track every bay.

A worker is a separate process (forked from a clean, preloaded server, not from the watcher)
running `pipeline.process` for one drive, so a slow scan on one drive never holds up another and
a crash takes one bay down, not the station. Workers report progress and their outcome through
a queue; the watcher owns the bay table, reacts to hot-plug events and stops workers whose drive
was pulled. A worker dies with the watcher (even a SIGKILLed one), so no orphan keeps wiping.

Only drives on the station's bays are taken: a glob pattern per bay (kernel name, path, serial
or a loop device's backing file), so the operator's own USB stick is never wiped for being
plugged in. Taking every eligible drive is an explicit choice (`all_drives`).
"""

from __future__ import annotations

import fnmatch
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import connection
from pathlib import Path
from typing import Any

from asset_pipeline.drives import discovery
from asset_pipeline.drives.hotplug import BlockEvent, BlockMonitor
from asset_pipeline.errors import ConfigError, PipelineError
from asset_pipeline.flow import pipeline
from asset_pipeline.station.context import Station
from asset_pipeline.storage import devices
from wipe import WipeError

log = logging.getLogger(__name__)

# Workers fork from a server process that imported the pipeline once (forkserver), so a drive
# does not wait seconds for its worker's imports; unlike a plain fork, nothing of the watcher's
# threads, live display or database connections is copied into a worker.
_WORKERS = multiprocessing.get_context("forkserver")
_WORKERS.set_forkserver_preload(
    ["asset_pipeline.flow.watcher", "asset_pipeline.evidence.issuing", "scanners",
     "scanners.fastpath", "scanners.pool", "wipe"]
)  # fmt: skip
PROGRESS_EVERY = 0.25  # seconds between progress messages a worker sends
PULL_GRACE = 20.0  # seconds a worker gets to stop by itself after its drive was pulled


@dataclass
class Bay:
    """What the station shows for one drive slot (keyed by kernel name)."""

    name: str
    path: str
    serial: str = ""
    status: str = "waiting"  # waiting | skipped | working | done | removed
    state: str = ""  # the device's pipeline state
    step: str = ""
    done: int = 0
    total: int = 0
    rate: float = 0.0  # bytes per second of the current step
    note: str = ""
    device_id: int | None = None
    certificate: str | None = None
    asset_tag: str = ""  # the customer asset the drive came from (`--require-tag`)
    started: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for `watch --json` lines."""
        data = {k: v for k, v in vars(self).items() if k != "started"}
        data["rate"] = round(self.rate)
        return data


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """How the station mode runs."""

    batch_id: int
    bays: tuple[str, ...] = ()  # glob patterns naming the drives to take
    all_drives: bool = False  # take every eligible drive, bays or not
    pipeline: pipeline.Options = field(default_factory=pipeline.Options)
    max_devices: int | None = None  # stop after this many devices finished (scripts, tests)
    resume: bool = True  # finish devices a crashed station left mid-pipeline, first
    # A drive waits in its bay until the operator scans the tag of the asset it came from.
    require_tag: bool = False


@dataclass
class _Worker:
    process: Any
    cancel: Any
    bay: Bay
    pulled_at: float | None = None


@dataclass(frozen=True, slots=True)
class StationRef:
    """What a worker process needs to open the same station (picklable)."""

    data_dir: str
    db_url: str | None
    operator: str | None

    @classmethod
    def of(cls, station: Station) -> StationRef:
        """The reference of `station`."""
        return cls(str(station.data_dir), station.db_url, station.operator_override)

    def open(self) -> Station:
        """A new Station object for the same data directory and database."""
        return Station(data_dir=Path(self.data_dir), db_url=self.db_url,
                       operator_override=self.operator)  # fmt: skip


def matches_bays(drive: discovery.Drive, patterns: tuple[str, ...]) -> bool:
    """True when a bay pattern names the drive by kernel name, path, serial or backing file."""
    names = [drive.name, drive.path, drive.serial, drive.loop_backing_file or ""]
    return any(fnmatch.fnmatch(n, p) for p in patterns for n in names if n)


class Watcher:
    """The station loop: events in, workers out, a bay table for whoever renders it."""

    def __init__(
        self,
        station: Station,
        options: WatchOptions,
        *,
        on_change: Callable[[Bay], None] = lambda _b: None,
    ) -> None:
        """Set up the loop (nothing runs before `run`).

        Raises:
            ConfigError: no bays are given and `all_drives` is not set.
        """
        if not options.bays and not options.all_drives:
            raise ConfigError(no_bays_message(station))
        self.station = station
        self.options = options
        self.on_change = on_change
        self.bays: dict[str, Bay] = {}
        self.finished = 0
        self._waiting: dict[str, Bay] = {}  # drives seen again while a run on them stops
        self._scans: queue.SimpleQueue[str] = queue.SimpleQueue()  # tags from `scan_tag`
        self._tags: deque[str] = deque()  # scanned tags no drive has taken yet
        self._untagged: list[str] = []  # bays whose drive waits for a tag, oldest first
        self._workers: dict[str, _Worker] = {}
        self._queue = _WORKERS.Queue()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the loop to end: running workers are cancelled (their devices end aborted)."""
        self._stop.set()

    def scan_tag(self, tag: str) -> None:
        """An asset tag the operator scanned (any thread): the next untagged drive takes it.

        The caller checks that the tag names an asset of the batch; the drive waiting longest
        is paired with it, or, when none waits, the next drive plugged in.
        """
        self._scans.put(tag)

    def run(self) -> None:
        """Run until `stop()` (or `max_devices` finished); returns after workers have ended."""
        monitor = BlockMonitor()  # subscribe before looking, so no drive slips in between
        _start_worker_server()
        if self.options.resume:
            for device_id in pipeline.unfinished_devices(self.station):
                self._start_resume(device_id)
        for drive in discovery.discover():
            self._consider(drive)
        try:
            while not self._stop.is_set():
                event = monitor.poll(timeout=0.2)
                if event is not None:
                    self._on_event(event)
                self._pair_tags()
                self._drain()
                self._reap()
                if self.options.max_devices and self.finished >= self.options.max_devices:
                    break
        finally:
            self._shutdown()

    # -- events -----------------------------------------------------------------------------

    def _on_event(self, event: BlockEvent) -> None:
        if event.devtype != "disk":
            return
        if event.action == "remove":
            self._gone(event.name)
            return
        if event.action not in ("add", "change"):
            return
        try:
            drive = discovery.identify(event.path)
        except (WipeError, OSError):
            self._gone(event.name)
            return
        if drive.size_bytes == 0:
            self._gone(event.name)  # a loop device detached, a reader emptied
            return
        self._consider(drive)

    def _consider(self, drive: discovery.Drive) -> None:
        current = self._workers.get(drive.name)
        if drive.size_bytes == 0 or (current is not None and current.pulled_at is None):
            return  # events of the drive being worked on (rescans) are not new drives
        bay = self.bays.get(drive.name)
        if (
            bay is not None
            and bay.status in ("done", "skipped", "waiting")
            and bay.serial == drive.serial
        ):
            return  # the same drive still sits in its bay; a change event is not a re-plug
        if not self.options.all_drives and not matches_bays(drive, self.options.bays):
            return
        bay = Bay(drive.name, drive.path, drive.serial)
        self.bays[drive.name] = bay
        busy = current or self._worker_on(drive.serial)
        if busy is not None:
            # The same drive again (plugged back while its pulled run stops, or a second path
            # to it): it starts once that run has ended, on the same device record.
            bay.note = f"the same drive is in bay {busy.bay.name}; waiting for it"
            self._waiting[drive.name] = bay
            self.on_change(bay)
            return
        if not drive.writable:
            bay.status, bay.note = "skipped", "not eligible: " + "; ".join(drive.refusal)
            self.on_change(bay)
            return
        with self.station.session() as session:
            earlier = devices.finished_in_batch(session, self.options.batch_id, drive.serial)
        if earlier is not None:
            bay.status, bay.device_id = "skipped", earlier.id
            bay.note = f"already {earlier.state} in this batch (device {earlier.id})"
            self.on_change(bay)
            return
        if self.options.require_tag:
            self._untagged.append(bay.name)
            bay.note = "scan the tag of the asset this drive came from"
            self.on_change(bay)
            self._pair_tags()
            return
        self._start(bay, ("process", drive.path, ""))

    def _pair_tags(self) -> None:
        """Give scanned tags to the drives waiting for one, in the order both came."""
        while True:
            try:
                self._tags.append(self._scans.get_nowait())
            except queue.Empty:
                break
        while self._tags and self._untagged:
            bay = self.bays[self._untagged.pop(0)]
            bay.asset_tag = self._tags.popleft()
            self._start(bay, ("process", bay.path, bay.asset_tag))

    def _gone(self, name: str) -> None:
        if name in self._untagged:  # pulled before its tag was scanned
            self._untagged.remove(name)
        worker = self._workers.get(name)
        bay = self.bays.get(name)
        waiting = self._waiting.pop(name, None)
        if worker is not None and waiting is None:
            if worker.pulled_at is None:
                worker.pulled_at = time.monotonic()
                worker.cancel.set()
                worker.bay.note = "drive removed; stopping"
                self.on_change(worker.bay)
            return
        if bay is not None and bay.status != "removed":
            bay.status, bay.note = "removed", "drive removed"
            self.on_change(bay)

    def _worker_on(self, serial: str) -> _Worker | None:
        """The worker running on the drive with `serial`, if any."""
        if not serial:
            return None
        return next((w for w in self._workers.values() if w.bay.serial == serial), None)

    def _start_waiting(self) -> None:
        """Start drives that waited for a run on the same drive, once it has ended."""
        for name, bay in list(self._waiting.items()):
            if name in self._workers or self._worker_on(bay.serial) is not None:
                continue
            del self._waiting[name]
            bay.status = "removed"  # so that _consider takes the drive as new
            try:
                drive = discovery.identify(bay.path)
            except (WipeError, OSError):
                drive = None
            if drive is None or drive.size_bytes == 0 or drive.serial != bay.serial:
                bay.note = "drive removed"
                self.on_change(bay)
                continue
            self._consider(drive)

    # -- workers ----------------------------------------------------------------------------

    def _start(self, bay: Bay, job: tuple[str, Any]) -> None:
        cancel = _WORKERS.Event()
        proc = _WORKERS.Process(
            target=_work,
            args=(StationRef.of(self.station), self.options, job, bay.name, self._queue, cancel),
            name=f"bay-{bay.name}",
            daemon=True,
        )
        bay.status, bay.note = "working", ""
        self._workers[bay.name] = _Worker(proc, cancel, bay)
        self.on_change(bay)  # the bay shows up before the worker's start, which takes a moment
        proc.start()

    def _start_resume(self, device_id: int) -> None:
        with self.station.session() as session:
            device = devices.find_device(session, device_id)
            name, path, serial = Path(device.path).name, device.path, device.serial
        bay = Bay(name, path, serial, note=f"resuming device {device_id}")
        self.bays[name] = bay
        self._start(bay, ("resume", device_id))

    def _drain(self) -> None:
        while True:
            try:
                name, kind, data = self._queue.get_nowait()
            except queue.Empty:
                return
            worker = self._workers.get(name)
            bay = worker.bay if worker else self.bays.get(name)
            if bay is None:
                continue
            if kind == "progress":
                self._progress(bay, data)
            elif kind == "outcome":
                bay.status = "done"
                bay.state, bay.note = data["state"], data["reason"]
                bay.device_id, bay.certificate = data["device_id"], data["certificate_pdf"]
                bay.done = bay.total = 0
                self.finished += 1
            elif kind == "error":
                bay.status, bay.note = "done", data
                self.finished += 1
            self.on_change(bay)

    def _progress(self, bay: Bay, event: pipeline.StepProgress) -> None:
        now = time.monotonic()
        if event.step != bay.step:
            bay.started, bay.rate = now, 0.0
        elif event.done and now > bay.started:
            bay.rate = event.done / (now - bay.started)
        bay.device_id, bay.state, bay.step = event.device_id, event.state, event.step
        bay.done, bay.total = event.done, event.total

    def _reap(self) -> None:
        for name, worker in list(self._workers.items()):
            if worker.process.is_alive():
                if worker.pulled_at and time.monotonic() - worker.pulled_at > PULL_GRACE:
                    worker.process.terminate()  # stuck on a vanished device
                continue
            self._drain()
            del self._workers[name]
            bay = worker.bay
            before = (bay.status, bay.note)
            if bay.status == "working":  # died without an outcome (killed, crashed)
                bay.status = "done"
                bay.note = f"worker ended with exit code {worker.process.exitcode}"
                self._mark_dead(bay)
                self.finished += 1
            if worker.pulled_at is not None:
                bay.status = "removed"
            if (bay.status, bay.note) != before:
                self.on_change(bay)
        self._start_waiting()

    def _mark_dead(self, bay: Bay) -> None:
        """A worker that died mid-step leaves its device for `resume`; say so in the bay."""
        if bay.device_id is not None:
            bay.note += f"; device {bay.device_id} is left for `asset-pipeline resume`"

    def _shutdown(self) -> None:
        for worker in self._workers.values():
            worker.cancel.set()
        deadline = time.monotonic() + PULL_GRACE
        for worker in self._workers.values():
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(5)
        self._drain()
        self._workers.clear()


def no_bays_message(station: Station) -> str:
    """Why watch will not start without bays, and the three ways to give them."""
    return (
        "no bays configured, so watch would take every drive it sees (the operator's own USB "
        "stick too): name the drives with --bays 'sd[b-e],nvme*', or put "
        f'bays = ["sd[b-e]", "nvme*"] under [station] in {station.data_dir / "config.toml"}, '
        "or pass --all-drives to take every eligible drive"
    )


def _start_worker_server() -> None:
    """Start the worker server and wait until it has imported the pipeline.

    Left to the first worker's start, that wait fell on the first drive plugged into an idle
    station (15 s on the lab's emulated CPU) and held up every event behind it.
    """
    probe = _WORKERS.Process(target=_ready, name="worker-server-probe")
    probe.start()
    probe.join()


def _ready() -> None:
    """A worker that does nothing: its start proves the worker server is up."""


def _work(
    ref: StationRef,
    options: WatchOptions,
    job: tuple[str, Any],
    name: str,
    out: Any,
    cancel: Any,
) -> None:
    """Worker process: one drive through the pipeline, progress and outcome to the queue."""
    _die_with_watcher()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the watcher decides when a worker stops
    station = ref.open()
    last = 0.0

    def report(event: pipeline.StepProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or event.done == event.total:
            last = now
            out.put((name, "progress", event))

    try:
        kind, arg, *tag = job
        if kind == "resume":
            outcome = pipeline.resume_device(
                station, arg, options=options.pipeline, report=report, cancel=cancel
            )
        else:
            outcome = pipeline.process(
                station, arg, options.batch_id, options=options.pipeline, report=report,
                cancel=cancel, asset=tag[0] or None,
            )  # fmt: skip
        out.put((name, "outcome", vars(outcome)))
    except (PipelineError, WipeError) as e:
        out.put((name, "error", str(e)))
    finally:
        station.close()


def _die_with_watcher() -> None:
    """Kill this worker as soon as the watcher is gone, even when it was SIGKILLed.

    PR_SET_PDEATHSIG would watch the wrong process: a worker's parent is the forkserver, and
    the forkserver lives on after the watcher dies, because every worker inherits its
    keep-alive pipe. multiprocessing's parent sentinel names the watcher itself: a pipe whose
    write end only the watcher holds, read as closed the moment the watcher has died.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel
    if connection.wait([sentinel], timeout=0):  # gone while this process was starting
        os._exit(1)

    def watch() -> None:
        connection.wait([sentinel])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="watcher-watch", daemon=True).start()
