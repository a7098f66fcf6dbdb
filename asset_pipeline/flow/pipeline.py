"""The station pipeline: one device from plug to certificate, or to a stated failure.

Each step moves the device one state on (`lifecycle.advance`, persisted and logged before the
next step starts), so the device's stored state always says which step comes next. Processing
a new drive and resuming after a crash are therefore the same loop: look at the state, run the
step that follows it, repeat until the device rests (certified, failed, aborted).

    detected -> identified -> guarded -> registered -> [pre_scanned] -> sanitizing -> verified
             -> post_scanned -> certified

Invariant 1 (DESIGN.md) is enforced twice: here, a certificate is only asked for from
`post_scanned`, which is only reached from a passed wipe and a clean post-scan; and inside the
certificate builder, which checks the wipe result and the scan report again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from asset_pipeline.drives import discovery
from asset_pipeline.errors import BatchClosed, DeviceBusy, PipelineError
from asset_pipeline.evidence.issuing import issue_sanitization_certificate
from asset_pipeline.flow import device_scan, lifecycle
from asset_pipeline.flow.states import UNFINISHED, State
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Device, Sanitization, devices, results, sanitizations, utcnow
from asset_pipeline.storage.batches import find_batch
from scanners import RawOptions, ScanError
from wipe import (
    GuardRefusal,
    Pattern,
    WipeError,
    WipeResult,
    capabilities_of,
    check_health,
    check_writable,
    choose,
    detect_hidden_areas,
    restore_native_max,
    sanitize,
)

log = logging.getLogger(__name__)

RESTING = frozenset(State) - UNFINISHED  # where a run stops: certified, or an ending
# The step a device in each state is running (a state names the last step done), for the
# reason of an interruption: a drive pulled in `verified` was pulled during its post-scan.
DOING = {State.DETECTED: "identify", State.IDENTIFIED: "guard", State.GUARDED: "register",
         State.REGISTERED: "pre-scan", State.PRE_SCANNED: "sanitizing",
         State.SANITIZING: "sanitizing", State.VERIFIED: "post-scan",
         State.POST_SCANNED: "certify"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StepProgress:
    """Progress of one device, for live views (`process`'s bars, `watch`'s bay table)."""

    device_id: int | None
    path: str
    state: str
    step: str  # e.g. "pre-scan raw", "pass 1/1 random", "verify sample"
    done: int = 0
    total: int = 0


Reporter = Callable[[StepProgress], None]


@dataclass(frozen=True, slots=True)
class Options:
    """How the station runs the pipeline (the agreement decides level and discovery)."""

    verify_method: str = "sample"  # sample | full
    restore_hidden: bool = False  # operator consents to removing HPA/DCO before the wipe
    # Match scan pages in worker processes; off when every drive already has its own process.
    scan_processes: bool = True


@dataclass
class Outcome:
    """Where one device ended, with pointers to its evidence (counts only, never values)."""

    device_id: int
    path: str
    serial: str
    state: str
    reason: str = ""
    certificate_id: str | None = None
    certificate_json: str | None = None
    certificate_pdf: str | None = None
    plan: dict[str, Any] | None = None
    pre_scan: dict[str, Any] | None = None
    post_scan: dict[str, Any] | None = None

    @property
    def certified(self) -> bool:
        """True when the device got its certificate of sanitization."""
        return self.state == State.CERTIFIED.value


class Interrupted(Exception):
    """The run was cancelled (operator, shutdown or the device was pulled)."""


class _StepFailed(Exception):
    """A step ended the device's run in `state` with `reason`."""

    def __init__(self, state: State, reason: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.state, self.reason, self.payload = state, reason, payload or {}


def process(
    station: Station,
    path: str,
    batch_id: int,
    *,
    options: Options | None = None,
    report: Reporter | None = None,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Take the drive at `path` through the whole pipeline under batch `batch_id`.

    The guard is asked before anything is recorded: a refused target leaves only a
    `guard.refused` event in the log.

    Raises:
        GuardRefusal: the target must not be written.
        TargetNotFound, NotATarget: `path` is not a drive or image file.
        BatchNotFound, BatchClosed: the batch cannot take the device.
        DeviceBusy: another live station process works on this drive.
    """
    drive = discovery.identify(path)
    try:
        check_writable(drive.path)
    except GuardRefusal as e:
        _log_refusal(station, batch_id, drive.path, e.reason)
        raise
    device_id = _detect(station, drive, batch_id)
    return DeviceRun(station, device_id, options, report, cancel).run()


def resume_device(
    station: Station,
    device_id: int,
    *,
    options: Options | None = None,
    report: Reporter | None = None,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Continue a device whose process died, from the step after its stored state.

    Raises:
        DeviceBusy: the device's claim belongs to a live station process.
    """
    with station.session() as session:
        device = session.get(Device, device_id)
        if device is None:
            raise PipelineError(f"no device {device_id}")
        if lifecycle.claim_is_alive(device) and device.claimed_by != lifecycle.worker_id():
            raise DeviceBusy(f"device {device_id} is being processed by {device.claimed_by}")
        lifecycle.claim(device)
    return DeviceRun(station, device_id, options, report, cancel).run()


def unfinished_devices(station: Station) -> list[int]:
    """Ids of devices left mid-pipeline by a station process that no longer runs."""
    mid = [s.value for s in UNFINISHED]
    with station.session() as session:
        rows = session.scalars(select(Device).where(Device.state.in_(mid)).order_by(Device.id))
        return [d.id for d in rows if not lifecycle.claim_is_alive(d)]


class DeviceRun:
    """One device's run: a loop over the step that follows the stored state."""

    def __init__(
        self,
        station: Station,
        device_id: int,
        options: Options | None,
        report: Reporter | None,
        cancel: threading.Event | None,
    ) -> None:
        self.station = station
        self.device_id = device_id
        self.options = options or Options()
        self.report = report or (lambda _p: None)
        self.cancel = cancel or threading.Event()
        self.wipe: WipeResult | None = None
        self.path = ""
        self.state = State.DETECTED
        self.doing = DOING[State.DETECTED]
        self._refresh()

    def run(self) -> Outcome:
        """Run steps until the device rests; failures end in FAILED/ABORTED with the reason."""
        steps: dict[State, Callable[[], None]] = {
            State.DETECTED: self.identify,
            State.IDENTIFIED: self.guard,
            State.GUARDED: self.register,
            State.REGISTERED: self.discover_or_sanitize,
            State.PRE_SCANNED: self.sanitize,
            State.SANITIZING: self.sanitize,
            State.VERIFIED: self.post_scan,
            State.POST_SCANNED: self.certify,
        }
        try:
            while self.state not in RESTING:
                self.doing = DOING[self.state]
                self._raise_if_cancelled()
                steps[self.state]()
                self._refresh()
        except Interrupted as e:
            self._end(State.ABORTED, str(e))
        except _StepFailed as e:
            self._end(e.state, e.reason, e.payload)
        finally:
            self._release()
        return self.outcome()

    # -- steps ------------------------------------------------------------------------------

    def identify(self) -> None:
        """Re-read the drive's identity and check it is the same drive as recorded."""
        self._progress("identify")
        with self.station.session() as session:
            device = self._device(session)
            recorded_serial = device.serial
        drive = self._present_drive()
        if recorded_serial and drive.serial != recorded_serial:
            raise _StepFailed(State.ABORTED, f"{self.path} now holds another drive")
        with self.station.session() as session:
            device = self._device(session)
            devices.apply_identity(device, drive)
            lifecycle.advance(session, self.station, device, State.IDENTIFIED,
                              payload={"transport": drive.transport, "media": drive.media_type,
                                       "size_bytes": drive.size_bytes})  # fmt: skip

    def guard(self) -> None:
        """Ask the write guard; a refusal ends the run without writing anything."""
        try:
            check_writable(self.path)
        except GuardRefusal as e:
            raise _StepFailed(State.ABORTED, f"refused by the write guard: {e.reason}") from e
        with self.station.session() as session:
            lifecycle.advance(session, self.station, self._device(session), State.GUARDED)

    def register(self) -> None:
        """Join the batch named when the device was detected."""
        with self.station.session() as session:
            device = self._device(session)
            if device.batch is None:
                raise _StepFailed(State.FAILED, "device has no batch")
            if not device.batch.is_open:
                raise _StepFailed(State.ABORTED, f"batch {device.batch_id} is closed")
            lifecycle.advance(session, self.station, device, State.REGISTERED,
                              payload={"agreement": device.batch.agreement.reference})  # fmt: skip

    def discover_or_sanitize(self) -> None:
        """Pre-scan when the agreement instructs discovery, else sanitize straight away."""
        with self.station.session() as session:
            instructed = self._device(session).batch.agreement.discovery_instructed
        if instructed:
            self.pre_scan()
        else:
            self.doing = DOING[State.PRE_SCANNED]
            self.sanitize()

    def pre_scan(self) -> None:
        """Find personal data before the wipe (counts per category, never values)."""
        summary = self._scan("pre", expected=None)
        with self.station.session() as session:
            lifecycle.advance(session, self.station, self._device(session), State.PRE_SCANNED,
                              payload={"findings": summary["total"],
                                       "not_scannable": summary["not_scannable"]})  # fmt: skip

    def sanitize(self) -> None:
        """Plan from the agreement and the media, wipe, verify; passed -> verified."""
        with self.station.session() as session:
            device = self._device(session)
            level = device.batch.agreement.required_level
            transport, media = device.transport, device.media_type
        caps = capabilities_of(self.path, transport)
        health = check_health(self.path, transport)  # a failing drive is destroyed, not wiped
        plan = choose(level, media, caps, None, health)
        if plan.method == "destroy":
            self._record_destroy_plan(plan.to_dict())
            raise _StepFailed(State.FAILED, f"plan ends in destroy: {plan.reason}",
                              {"plan": plan.to_dict()})  # fmt: skip
        hidden = detect_hidden_areas(self.path, transport)
        if hidden.status == "present":
            hidden = restore_native_max(self.path, hidden, consent=self.options.restore_hidden)
        with self.station.session() as session:
            device = self._device(session)
            results.close_interrupted_wipes(session, device)
            lifecycle.advance(session, self.station, device, State.SANITIZING,
                              payload={"plan": plan.to_dict()})  # fmt: skip
            record_id = sanitizations.start_record(
                session, level=level, method=plan.method, device_id=device.id
            )
        self.state = State.SANITIZING  # the wipe's progress reports say so (bays, bars)
        try:
            result = sanitize(
                self.path,
                plan,
                verify_method=self.options.verify_method,
                hidden=hidden if hidden.status != "not-checked" else None,
                on_progress=lambda step, done, total: self._progress(step, done, total),
                cancel=self.cancel,
            )
        except WipeError as e:  # refused or busy at open: nothing was written
            result = None
            reason = str(e)
        with self.station.session() as session:
            if result is None:
                sanitizations.finish_record(
                    session, record_id, outcome="failed", result={"reason": reason}
                )
            else:
                sanitizations.finish_record(
                    session, record_id, outcome=result.outcome, result=result.to_dict()
                )
        if result is None:
            raise _StepFailed(State.FAILED, reason)
        self.wipe = result
        vanished = any(e.get("step") == "device" for e in result.errors)  # DeviceGone
        vanished = vanished or (result.outcome == "failed" and self._device_gone())
        if result.outcome == "aborted" or vanished:
            raise Interrupted(self._interruption(result.reason, vanished=vanished))
        if result.outcome != "passed":
            raise _StepFailed(State.FAILED, f"wipe failed: {result.reason}",
                              {"method": plan.method})  # fmt: skip
        ver = result.to_dict()["verification"]
        with self.station.session() as session:
            lifecycle.advance(session, self.station, self._device(session), State.VERIFIED,
                              payload={"method": plan.method, "verification": ver["method"],
                                       "coverage": ver["coverage"],
                                       "bytes_written": result.bytes_written})  # fmt: skip

    def post_scan(self) -> None:
        """Scan the sanitized drive again; anything found (or unreadable) fails the device."""
        pattern = self.wipe.final_pattern if self.wipe is not None else None
        summary = self._scan("post", expected=pattern)
        if summary["total"]:
            raise _StepFailed(State.FAILED,
                              f"post-scan found {summary['total']} personal-data items",
                              {"findings": summary["total"]})  # fmt: skip
        if summary["not_scannable"]:
            raise _StepFailed(
                State.FAILED, f"post-scan could not read {summary['not_scannable']} regions"
            )
        with self.station.session() as session:
            lifecycle.advance(session, self.station, self._device(session), State.POST_SCANNED,
                              payload={"findings": 0})  # fmt: skip

    def certify(self) -> None:
        """Issue the signed certificate of sanitization from the stored results."""
        self._progress("certify")
        with self.station.session() as session:
            device = self._device(session)
            wipe_result = results.latest_passed_wipe(session, device)
            pre = results.latest_scan(session, device, "pre")
            post = results.latest_scan(session, device, "post")
            if wipe_result is None or post is None:
                raise _StepFailed(State.FAILED, "no stored wipe result or post-scan to certify")
            issued = issue_sanitization_certificate(
                session, self.station, device, wipe_result=wipe_result,
                pre_scan=pre, post_scan=post,
            )  # fmt: skip
            lifecycle.advance(session, self.station, device, State.CERTIFIED,
                              payload={"certificate_id": issued.cert_id})  # fmt: skip

    # -- helpers ----------------------------------------------------------------------------

    def _scan(self, phase: str, *, expected: Pattern | None) -> dict[str, Any]:
        with self.station.session() as session:
            key = device_scan.batch_key(self._device(session).batch)
        check = _expected_bytes(expected)
        try:
            result = device_scan.scan_target(
                self.path,
                key,
                expected=check,
                processes=self.options.scan_processes,
                on_progress=lambda name, done, total: self._progress(
                    f"{phase}-scan {name}", done, total
                ),
            )
        except ScanError as e:
            self._raise_if_cancelled()
            raise _StepFailed(State.FAILED, f"{phase}-scan failed: {e}") from e
        self._raise_if_cancelled()
        with self.station.session() as session:
            device_scan.store_scan(session, self.device_id, phase, result)
        return {"total": result.total_findings, "not_scannable": len(result.not_scannable)}

    def _record_destroy_plan(self, plan: dict[str, Any]) -> None:
        with self.station.session() as session:
            device = self._device(session)
            session.add(Sanitization(device_id=device.id, level=plan["level"], method="destroy",
                                     outcome="failed", result={"plan": plan},
                                     ended_at=utcnow()))  # fmt: skip

    def _present_drive(self) -> discovery.Drive:
        try:
            drive = discovery.identify(self.path)
        except (WipeError, OSError) as e:
            raise _StepFailed(State.ABORTED, f"{self.path} is not present: {e}") from e
        if drive.size_bytes == 0:
            raise _StepFailed(State.ABORTED, f"{self.path} has no media")
        return drive

    def _interruption(self, detail: str = "", *, vanished: bool = False) -> str:
        if vanished or self._device_gone():
            return f"device removed during {self.doing}"
        return f"interrupted during {self.doing}" + (f": {detail}" if detail else "")

    def _device_gone(self) -> bool:
        """The drive was pulled: its node is gone or it has no media any more."""
        try:
            return discovery.identify(self.path).size_bytes == 0
        except (WipeError, OSError):
            return True

    def _raise_if_cancelled(self) -> None:
        """Stop with `aborted` when cancelled or when the drive has been pulled."""
        if self.cancel.is_set():  # by the operator, or by watch for a pulled drive
            raise Interrupted(self._interruption())
        if self._device_gone():
            raise Interrupted(self._interruption(vanished=True))

    def _end(self, state: State, reason: str, payload: dict[str, Any] | None = None) -> None:
        log.info("device %s ends %s: %s", self.device_id, state.value, reason)
        with self.station.session() as session:
            device = self._device(session)
            lifecycle.advance(session, self.station, device, state, reason=reason,
                              payload=payload)  # fmt: skip
            if state is State.FAILED and (payload or {}).get("plan", {}).get("method") == "destroy":
                lifecycle.advance(session, self.station, device, State.DESTRUCTION_PENDING,
                                  reason=reason)  # fmt: skip
        self._refresh()

    def _release(self) -> None:
        with self.station.session() as session:
            lifecycle.release(self._device(session))

    def _refresh(self) -> None:
        with self.station.session() as session:
            device = self._device(session)
            self.state, self.path = State(device.state), device.path

    def _device(self, session: Any) -> Device:
        device = session.get(Device, self.device_id)
        if device is None:
            raise PipelineError(f"device {self.device_id} vanished from the database")
        return device

    def _progress(self, step: str, done: int = 0, total: int = 0) -> None:
        self.report(StepProgress(self.device_id, self.path, self.state.value, step, done, total))

    def outcome(self) -> Outcome:
        """The device's end state and evidence, read back from the database."""
        with self.station.session() as session:
            device = self._device(session)
            cert = results.sanitization_certificate(session, device)
            directory = self.station.certificates_dir
            return Outcome(
                device_id=device.id,
                path=device.path,
                serial=device.serial,
                state=device.state,
                reason=device.state_reason,
                certificate_id=cert.cert_id if cert else None,
                certificate_json=str(directory / f"{cert.cert_id}.json") if cert else None,
                certificate_pdf=str(directory / f"{cert.cert_id}.pdf") if cert else None,
                plan=results.latest_plan(session, device),
                pre_scan=results.scan_counts(results.latest_scan(session, device, "pre")),
                post_scan=results.scan_counts(results.latest_scan(session, device, "post")),
            )


def _detect(station: Station, drive: discovery.Drive, batch_id: int) -> int:
    """Record the drive as detected in the batch (or restart its aborted record there)."""
    with station.session() as session:
        batch = find_batch(session, batch_id)
        for other in devices.claimed_at_path(session, drive.path):
            if lifecycle.claim_is_alive(other):
                raise DeviceBusy(f"{drive.path} is being processed (device {other.id})")
        device = devices.aborted_in_batch(session, batch.id, drive.serial)
        if device is None:
            device = devices.new_device(session, batch, drive)
            lifecycle.claim(device)
            lifecycle.record_detected(session, station, device)
        else:
            if not batch.is_open:
                raise BatchClosed(f"batch {batch.id} is closed")
            lifecycle.claim(device)
            devices.apply_identity(device, drive)
            lifecycle.advance(session, station, device, State.DETECTED,
                              reason="plugged in again; starting over")  # fmt: skip
        return device.id


def _log_refusal(station: Station, batch_id: int, path: str, reason: str) -> None:
    from asset_pipeline.evidence import audit

    with station.session() as session:
        audit.append_event(
            session,
            station_id=station.config.station_id,
            operator=station.operator,
            event_type="guard.refused",
            payload={"path": path, "reason": reason},
            batch_id=batch_id,
        )


def _expected_bytes(pattern: Pattern | None) -> Callable[[int, int], bytearray] | None:
    """What a completed wipe left at (offset, length), for the post-scan to skip cheaply.

    None for a constant pattern: the raw pass already skips pages of one repeated byte. For the
    keystream, each scanning thread refills one buffer of its own (no allocation per page).
    """
    if pattern is None or pattern.constant is not None:
        return None
    filler = pattern.filler(RawOptions().page_size)
    local = threading.local()

    def expected(offset: int, length: int) -> bytearray:
        buf = getattr(local, "buf", None)
        if buf is None or len(buf) != length:
            buf = local.buf = bytearray(length)
        filler.fill(memoryview(buf), offset)
        return buf

    return expected
