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

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.drives import discovery
from asset_pipeline.errors import BatchClosed, ConnectionLost, DeviceBusy, PipelineError
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.issuing import latest_certificate
from asset_pipeline.flow import device_scan, lifecycle, validation
from asset_pipeline.flow.retries import MAX_LOST, retrying
from asset_pipeline.flow.sanitizing import WipeOptions, WipeRun, plan_wipe, run_wipe
from asset_pipeline.flow.states import DESTROY_PLAN_ENDING, DOING, RESTING, UNFINISHED, State
from asset_pipeline.intake import linking
from asset_pipeline.intake.dmi import MachineIdentity
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Device, batches, devices, sanitizations, scans
from scanners import RawOptions, ScanError
from wipe import (
    GuardRefusal,
    Pattern,
    Plan,
    WipeError,
    check_target,
    check_writable,
    final_pattern,
)

log = logging.getLogger(__name__)


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
    force_image: bool = False  # take a regular file that does not look like a disk image


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
    asset_tag: str = ""  # the customer asset the drive came from (intake)

    @property
    def certified(self) -> bool:
        """True when the device got its certificate of sanitization."""
        return self.state == State.CERTIFIED.value


class Interrupted(Exception):
    """The run was cancelled (operator, shutdown or the device was pulled)."""


class _StepFailed(Exception):
    """A step ended the device's run: through `states` (in order) with `reason`."""

    def __init__(
        self,
        state: State | tuple[State, ...],
        reason: str,
        payload: dict[str, Any] | None = None,
        *,
        store: Callable[[Session, Device], None] | None = None,
    ) -> None:
        super().__init__(reason)
        self.states = state if isinstance(state, tuple) else (state,)
        self.reason, self.payload = reason, payload or {}
        self.store = store  # results the step stores together with its ending


def process(
    station: Station,
    path: str,
    batch_id: int,
    *,
    options: Options | None = None,
    report: Reporter | None = None,
    cancel: threading.Event | None = None,
    asset: str | MachineIdentity | None = None,
) -> Outcome:
    """Take the drive at `path` through the whole pipeline under batch `batch_id`.

    The guard is asked before anything is recorded: a refused target leaves only a
    `guard.refused` event in the log. `asset` is the customer asset the drive came from: its
    tag or serial (the drive was taken out of it), or the SMBIOS identity of the machine the
    station runs on (the drive is processed in place); the device is linked to it when it is
    detected.

    Raises:
        GuardRefusal: the target must not be written.
        TargetNotFound, NotATarget: `path` is not a drive or image file.
        BatchNotFound, BatchClosed: the batch cannot take the device.
        AssetNotFound: `asset` names no asset of the batch.
        DeviceBusy: another live station process works on this drive.
    """
    drive = discovery.identify(path)
    try:
        check_target(drive.path, force_image=(options or Options()).force_image)
    except GuardRefusal as e:
        _log_refusal(station, batch_id, drive.path, e.reason)
        raise
    device_id = retrying(
        lambda: _detect(station, drive, batch_id, asset),
        settled=lambda: _detected_here(station, drive.path, batch_id),
    )
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
    """Ids of devices left mid-pipeline by a station process that no longer runs.

    A device waiting for a second person's validation is not unfinished: it waits on purpose.
    """
    mid = [s.value for s in UNFINISHED]
    with station.session() as session:
        rows = session.scalars(select(Device).where(Device.state.in_(mid)).order_by(Device.id))
        return [
            d.id
            for d in rows
            if not lifecycle.claim_is_alive(d)
            and not (d.state == State.POST_SCANNED and validation.needs_second_person(session, d))
        ]


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a run needs to know about its device, read once when the run starts."""

    path: str
    serial: str
    batch_id: int
    batch_open: bool
    close_reason: str
    agreement: str
    level: str
    discovery: bool
    finding_key: bytes


class DeviceRun:
    """One device's run: a loop over the step that follows its state.

    Every step does its slow work (reading the drive, wiping, scanning) outside any
    transaction, then stores its results and its state change in one transaction. The run keeps
    the state it wrote, so it reads the database only at its start and for the certificate.
    """

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
        self.pattern: Pattern | None = None  # what the wipe left, for the post-scan
        self.waiting = ""  # why the run rests before `certified` (second-person validation)
        self.lost = 0  # connections lost during this run (see `_reload`)
        self.state, self.facts = retrying(self._read_start)
        self.path = self.facts.path
        self.doing = DOING.get(self.state, "")

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
            self._check_open()
            while self.state not in RESTING and not self.waiting:
                self.doing = DOING[self.state]
                self._check_present()
                try:
                    steps[self.state]()
                except ConnectionLost as e:
                    self._reload(e)
        except Interrupted as e:
            self._end((State.ABORTED,), str(e))
        except _StepFailed as e:
            self._end(e.states, e.reason, e.payload, before=e.store)
        finally:
            if self.state not in RESTING and not self.waiting:  # unexpected: leave it for resume
                self._release()
        return self.outcome()

    # -- steps ------------------------------------------------------------------------------

    def identify(self) -> None:
        """Re-read the drive's identity (the drive at the path was checked by `_check_present`)."""
        self._progress("identify")
        try:
            drive = discovery.identify(self.path)
        except (WipeError, OSError) as e:
            raise _StepFailed(State.ABORTED, f"{self.path} is not present: {e}") from e

        def store(session: Session, device: Device) -> None:
            devices.apply_identity(device, drive)

        self._advance(State.IDENTIFIED, {"transport": drive.transport, "media": drive.media_type,
                                         "size_bytes": drive.size_bytes}, before=store)  # fmt: skip

    def guard(self) -> None:
        """Ask the write guard; a refusal ends the run without writing anything."""
        try:
            check_writable(self.path)
        except GuardRefusal as e:
            raise _StepFailed(State.ABORTED, f"refused by the write guard: {e.reason}") from e
        self._advance(State.GUARDED)

    def register(self) -> None:
        """Join the batch named when the device was detected."""
        if not self.facts.batch_open:
            raise _StepFailed(State.FAILED, self._closed())
        self._advance(State.REGISTERED, {"agreement": self.facts.agreement})

    def discover_or_sanitize(self) -> None:
        """Pre-scan when the agreement instructs discovery, else sanitize straight away."""
        if self.facts.discovery:
            self.pre_scan()
        else:
            self.doing = DOING[State.PRE_SCANNED]
            self.sanitize()

    def pre_scan(self) -> None:
        """Find personal data before the wipe (counts per category, never values)."""
        self._scan("pre", State.PRE_SCANNED, expected=None)

    def sanitize(self) -> None:
        """Plan from the agreement and the media, wipe, verify; passed -> verified."""
        try:
            job = plan_wipe(discovery.identify(self.path), self.facts.level)
        except (WipeError, OSError) as e:
            raise _StepFailed(State.FAILED, f"cannot plan the wipe: {e}") from e
        if job.plan.method == "destroy":
            run_wipe(self.station, job, device_id=self.device_id)  # stores the plan, writes nothing
            raise _StepFailed(DESTROY_PLAN_ENDING, f"plan ends in destroy: {job.plan.reason}",
                              {"plan": job.plan.to_dict()})  # fmt: skip

        def start(session: Session, _record: int) -> None:
            device = self._device(session)
            sanitizations.close_interrupted_wipes(session, device)
            lifecycle.advance(session, self.station, device, State.SANITIZING,
                              payload={"plan": job.plan.to_dict()})  # fmt: skip
            self.state = State.SANITIZING  # the wipe's progress reports say so (bays, bars)

        options = WipeOptions(verify_method=self.options.verify_method,
                              restore_hidden=self.options.restore_hidden,
                              pattern_secret=self._pattern_secret())  # fmt: skip
        run = run_wipe(self.station, job, options=options, device_id=self.device_id,
                       on_record=start, on_progress=self._progress, cancel=self.cancel)  # fmt: skip
        self._judge(run)
        ver = run.record["verification"]
        self.pattern = run.result.final_pattern if run.result is not None else None
        self._advance(State.VERIFIED, {"method": job.plan.method, "verification": ver["method"],
                                       "coverage": ver["coverage"],
                                       "bytes_written": run.record["bytes_written"]})  # fmt: skip

    def post_scan(self) -> None:
        """Scan the sanitized drive again; anything found (or unreadable) fails the device."""
        self._scan("post", State.POST_SCANNED, expected=self.pattern or self._stored_pattern())

    def certify(self) -> None:
        """Issue the signed certificate of sanitization from the stored results.

        When the agreement asks a second person to validate, the device waits here, in
        `post_scanned`, until `device validate` accepts it (which issues the certificate).
        """
        self._progress("certify")
        with self.station.session() as session:
            device = self._device(session)
            if not device.batch.is_open:  # closed (forced) while this device was in the run
                raise _StepFailed(State.FAILED, self._closed(device.batch.close_reason))
            if sanitizations.latest_passed_wipe(session, device) is None or (
                scans.latest_scan(session, device, "post") is None
            ):
                raise _StepFailed(State.FAILED, "no stored wipe result or post-scan to certify")
            if validation.needs_second_person(session, device):
                audit.append_event(
                    session, station_id=self.station.config.station_id,
                    operator=self.station.operator, event_type="device.awaiting_validation",
                    payload={"rule": validation.SECOND_PERSON},
                    batch_id=device.batch_id, device_id=device.id,
                )  # fmt: skip
                lifecycle.release(device)
                self.waiting = validation.AWAITING
                return
            validation.certify(session, self.station, device)
            lifecycle.release(device)
            self.state = State.CERTIFIED

    # -- helpers ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        """A device of a batch closed (forced) before this run ends failed, with the reason."""
        if not self.facts.batch_open and self.state not in RESTING:
            raise _StepFailed(State.FAILED, self._closed())

    def _closed(self, reason: str | None = None) -> str:
        """Why a device of a closed batch ends failed: the batch took no more work."""
        why = self.facts.close_reason if reason is None else reason
        return f"batch {self.facts.batch_id} was closed" + (f": {why}" if why else "")

    def _reload(self, lost: ConnectionLost) -> None:
        """Continue from the stored state after the database connection dropped mid-step.

        The step's transaction was rolled back, or its COMMIT took effect unanswered: only the
        database knows which, so the run goes on from the stored state, repeating the step as
        a resume would (every step can be repeated). After `MAX_LOST` losses the device ends
        failed with the reason.
        """
        self.lost += 1
        log.warning("device %s: %s during %s", self.device_id, lost, self.doing)
        self.waiting = ""  # a wait the lost transaction was to record is decided again
        self.state, self.facts = retrying(self._read_start)
        if self.state not in RESTING and self.lost >= MAX_LOST:
            raise _StepFailed(State.FAILED, f"database connection lost {self.lost} times "
                              f"(last during {self.doing}): {lost}")  # fmt: skip

    def _read_start(self) -> tuple[State, _Facts]:
        with self.station.session() as session:
            device = self._device(session)
            return State(device.state), _facts(device)

    def _judge(self, run: WipeRun) -> None:
        """Turn a wipe that did not pass into the run's ending (interrupted or failed)."""
        if run.result is None:  # refused or busy at open: nothing was written
            raise _StepFailed(State.FAILED, run.reason)
        vanished = run.device_gone or (
            run.outcome == "failed" and discovery.present_serial(self.path) is None
        )  # a pulled drive often fails its writes with EIO before its node goes
        if run.outcome == "aborted" or vanished:
            raise Interrupted(self._interruption(run.reason, vanished=vanished))
        if run.outcome != "passed":
            raise _StepFailed(State.FAILED, f"wipe failed: {run.reason}",
                              {"method": run.job.plan.method})  # fmt: skip

    def _scan(self, phase: str, to: State, *, expected: Pattern | None) -> None:
        check = _expected_bytes(expected)
        try:
            result = device_scan.scan_target(
                self.path,
                self.facts.finding_key,
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
        total, unreadable = result.total_findings, len(result.not_scannable)

        def store(session: Session, _device: Device) -> None:
            scans.store_scan(session, self.device_id, phase, result)

        if phase == "post" and total:
            raise _StepFailed(State.FAILED, f"post-scan found {total} personal-data items",
                              {"findings": total}, store=store)  # fmt: skip
        if phase == "post" and unreadable:
            raise _StepFailed(State.FAILED, f"post-scan could not read {unreadable} regions",
                              store=store)  # fmt: skip
        self._advance(to, {"findings": total, "not_scannable": unreadable}, before=store)

    def _pattern_secret(self) -> bytes:
        """The secret this device's random wipe passes derive their keys from.

        Derived from the batch's finding key, so a station that crashes after the wipe can
        regenerate what it wrote and let the post-scan skip it, without storing the keys.
        """
        label = b"wipe-pattern:device:%d" % self.device_id
        return hmac.digest(self.facts.finding_key, label, "sha256")

    def _stored_pattern(self) -> Pattern | None:
        """What the stored passed wipe left (a run resumed after its wipe has no result)."""
        with self.station.session() as session:
            stored = sanitizations.latest_passed_wipe(session, self._device(session))
        plan = (stored or {}).get("plan")
        if not plan:
            return None
        known = {f.name for f in fields(Plan)}
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in plan.items() if k in known}
        return final_pattern(Plan(**args), self._pattern_secret())

    def _check_present(self) -> None:
        """Stop with `aborted` when cancelled, pulled, or when another drive took the path."""
        if self.cancel.is_set():  # by the operator, or by watch for a pulled drive
            raise Interrupted(self._interruption())
        serial = discovery.present_serial(self.path)
        if serial is None:
            raise Interrupted(self._interruption(vanished=True))
        if self.facts.serial and serial != self.facts.serial:
            raise _StepFailed(State.ABORTED, f"{self.path} now holds another drive")

    def _raise_if_cancelled(self) -> None:
        if self.cancel.is_set() or discovery.present_serial(self.path) is None:
            raise Interrupted(self._interruption())

    def _interruption(self, detail: str = "", *, vanished: bool = False) -> str:
        if vanished or discovery.present_serial(self.path) is None:
            return f"device removed during {self.doing}"
        return f"interrupted during {self.doing}" + (f": {detail}" if detail else "")

    def _advance(
        self,
        to: State,
        payload: dict[str, Any] | None = None,
        *,
        before: Callable[[Session, Device], None] | None = None,
    ) -> None:
        """Store a step's results (`before`) and its state change in one transaction."""
        with self.station.session() as session:
            device = self._device(session)
            if before is not None:
                before(session, device)
            lifecycle.advance(session, self.station, device, to, payload=payload)
        self.state = to

    def _end(
        self,
        states: tuple[State, ...],
        reason: str,
        payload: dict[str, Any] | None = None,
        *,
        before: Callable[[Session, Device], None] | None = None,
    ) -> None:
        """End the run through `states`, releasing the claim, in one transaction."""
        log.info("device %s ends %s: %s", self.device_id, states[-1].value, reason)

        def end() -> bool:
            with self.station.session() as session:
                device = self._device(session)
                if before is not None:
                    before(session, device)
                for i, state in enumerate(states):
                    lifecycle.advance(session, self.station, device, state, reason=reason,
                                      payload=payload if i == 0 else None)  # fmt: skip
                lifecycle.release(device)
            return True

        def ended() -> bool | None:  # a lost COMMIT that took effect after all
            return True if retrying(self._read_start)[0] == states[-1] else None

        retrying(end, settled=ended)
        self.state = states[-1]

    def _release(self) -> None:
        with self.station.session() as session:
            lifecycle.release(self._device(session))

    def _device(self, session: Session) -> Device:
        device = session.get(Device, self.device_id)
        if device is None:
            raise PipelineError(f"device {self.device_id} vanished from the database")
        return device

    def _progress(self, step: str, done: int = 0, total: int = 0) -> None:
        self.report(StepProgress(self.device_id, self.path, self.state.value, step, done, total))

    def outcome(self) -> Outcome:
        """The device's end state and evidence, read back from the database."""
        return retrying(self._outcome)

    def _outcome(self) -> Outcome:
        with self.station.session() as session:
            device = self._device(session)
            cert = latest_certificate(session, device, "sanitization")
            directory = self.station.certificates_dir
            return Outcome(
                device_id=device.id,
                path=device.path,
                serial=device.serial,
                state=device.state,
                reason=self.waiting or device.state_reason,
                certificate_id=cert.cert_id if cert else None,
                certificate_json=str(directory / f"{cert.cert_id}.json") if cert else None,
                certificate_pdf=str(directory / f"{cert.cert_id}.pdf") if cert else None,
                plan=sanitizations.latest_plan(session, device),
                pre_scan=scans.scan_counts(scans.latest_scan(session, device, "pre")),
                post_scan=scans.scan_counts(scans.latest_scan(session, device, "post")),
                asset_tag=device.asset_tag,
            )


def _facts(device: Device) -> _Facts:
    batch = device.batch
    if batch is None:
        raise PipelineError(f"device {device.id} has no batch")
    agreement = batch.agreement
    return _Facts(
        path=device.path,
        serial=device.serial,
        batch_id=batch.id,
        batch_open=batch.is_open,
        close_reason=batch.close_reason,
        agreement=agreement.reference,
        level=agreement.required_level,
        discovery=agreement.discovery_instructed,
        finding_key=device_scan.batch_key(batch),
    )


def _detect(
    station: Station,
    drive: discovery.Drive,
    batch_id: int,
    asset: str | MachineIdentity | None = None,
) -> int:
    """Record the drive as detected in the batch (or restart its aborted record there).

    With `asset`, the device is linked to it in the same transaction (see `intake.linking`).
    """
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        if asset is not None and not batch.is_open:
            raise BatchClosed(f"batch {batch.id} is closed; open a new batch for more devices")
        linked = _asset_for(session, station, batch, asset)
        for other in devices.claimed_at_path(session, drive.path):
            if lifecycle.claim_is_alive(other):
                raise DeviceBusy(f"{drive.path} is being processed (device {other.id})")
        device = devices.aborted_in_batch(session, batch.id, drive.serial)
        if device is None:
            device = devices.new_device(session, batch, drive)
            lifecycle.claim(device)
            found = {"path": device.path, "transport": device.transport}
            lifecycle.advance(session, station, device, State.DETECTED, payload=found)
        else:
            if not batch.is_open:
                raise BatchClosed(f"batch {batch.id} is closed")
            lifecycle.claim(device)
            devices.apply_identity(device, drive)
            lifecycle.advance(session, station, device, State.DETECTED,
                              reason="plugged in again; starting over")  # fmt: skip
        if linked is not None and device.asset_id != linked.id:
            linking.link(session, station, device, linked,
                         in_place=not isinstance(asset, str))  # fmt: skip
        return device.id


def _asset_for(
    session: Session, station: Station, batch: Any, asset: str | MachineIdentity | None
) -> Any:
    if asset is None:
        return None
    if isinstance(asset, str):
        return linking.asset_for(session, station, batch, asset)
    return linking.asset_for(session, station, batch, identity=asset)


def _detected_here(station: Station, path: str, batch_id: int) -> int | None:
    """The device this process recorded at `path` in the batch, if a lost COMMIT took effect."""
    with station.session() as session:
        mine = [d.id for d in devices.claimed_at_path(session, path)
                if d.claimed_by == lifecycle.worker_id() and d.batch_id == batch_id]  # fmt: skip
    return mine[-1] if mine else None


def _log_refusal(station: Station, batch_id: int, path: str, reason: str) -> None:
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
