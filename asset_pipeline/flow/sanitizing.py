"""Planning and running one wipe: the sequence `asset-pipeline wipe` and the pipeline share.

capabilities -> health -> plan -> hidden areas -> record (`running`) -> sanitize + verify ->
record (outcome). The record is stored before the first byte is written, so a crash leaves a
visible unfinished wipe; the caller adds what must land in the same transaction (the pipeline
its `sanitizing` state) through `on_record`, and may stop the run after planning through
`approve` (the CLI's typed confirmation).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asset_pipeline.storage import sanitizations
from wipe import (
    HiddenAreas,
    Plan,
    WipeError,
    WipeResult,
    capabilities_of,
    check_health,
    choose,
    detect_hidden_areas,
    restore_native_max,
    sanitize,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.drives.discovery import Drive
    from asset_pipeline.station.context import Station
    from wipe import Health

Progress = Callable[[str, int, int], None]  # (step label, done, total)


@dataclass(frozen=True, slots=True)
class WipeJob:
    """What will be done to a drive and what was found about it before (no writes yet)."""

    drive: Drive
    plan: Plan
    health: Health
    hidden: HiddenAreas


@dataclass(frozen=True, slots=True)
class WipeOptions:
    """How a wipe runs, beyond the plan."""

    verify_method: str = "sample"  # sample | full
    seed: int | None = None  # the sample verification's seed (None: from the OS)
    restore_hidden: bool = False  # the operator consents to removing an HPA/DCO first
    # Derive random passes' keys from this secret, so what was written can be regenerated
    # after a crash (the pipeline passes one; an ad-hoc wipe draws fresh keys).
    pattern_secret: bytes | None = None


@dataclass(frozen=True, slots=True)
class WipeRun:
    """How one wipe ended: the stored record, the engine's result and what to tell the user."""

    record_id: int
    job: WipeJob
    outcome: str  # passed | failed | aborted
    reason: str
    result: WipeResult | None  # None when nothing ran (declined, refused or busy at open)
    record: dict[str, Any]  # the result JSON as stored
    approved: bool = True  # False: `approve` said no, nothing was written

    @property
    def device_gone(self) -> bool:
        """The drive vanished during the run (pulled or detached), a typed fact of the engine."""
        return self.result is not None and self.result.device_gone


def plan_wipe(drive: Drive, level: str, method: str | None = None) -> WipeJob:
    """Capabilities, health, plan and hidden areas of `drive` for `level` (reads only).

    Raises:
        WipeError: the drive cannot be queried, or `method` is refused for it (frozen, not
            supported, not reaching the level, or the drive is failing).
        ValueError: an unknown level or method name.
    """
    caps = capabilities_of(drive.path, drive.transport)
    health = drive.health or check_health(drive.path, drive.transport)  # failing: destroy
    plan = choose(level, drive.media_type, caps, method, health)
    hidden = detect_hidden_areas(drive.path, drive.transport)
    return WipeJob(drive, plan, health, hidden)


def run_wipe(
    station: Station,
    job: WipeJob,
    *,
    options: WipeOptions | None = None,
    device_id: int | None = None,
    on_record: Callable[[Session, int], None] | None = None,
    approve: Callable[[WipeJob], bool] | None = None,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> WipeRun:
    """Record, sanitize, verify and record again; the run's outcome is in the result.

    Args:
        station: whose database holds the record.
        job: from `plan_wipe`.
        options: verification, hidden-area consent, pattern secret.
        device_id: the registered device being wiped; None for an ad-hoc wipe, whose record
            keeps the drive's identity instead.
        on_record: called in the transaction that stores the `running` record (not for a
            plan that ends in destroy, which writes nothing and is stored as failed at once).
        approve: asked after the record is stored and before anything is written; False ends
            the run `aborted` ("confirmation did not match") with nothing written.
        on_progress: (step label, done, total).
        cancel: set to stop the running step; the outcome is then `aborted`.
    """
    options = options or WipeOptions()
    plan, drive = job.plan, job.drive
    # An ad-hoc wipe keeps the drive's identity and who ran it (a device's run has its log).
    identity = {**drive.to_dict(), "operator": station.operator} if device_id is None else None
    if plan.method == "destroy":  # nothing to write: the device is to be destroyed
        result = sanitize(drive.path, plan)
        record = _stored(job, result.to_dict())
        with station.session() as session:
            record_id = sanitizations.start_record(
                session, level=plan.level, method=plan.method, identity=identity,
                device_id=device_id,
            )  # fmt: skip
            sanitizations.finish_record(session, record_id, outcome=result.outcome, result=record)
        return WipeRun(record_id, job, result.outcome, result.reason, result, record)
    with station.session() as session:
        record_id = sanitizations.start_record(
            session, level=plan.level, method=plan.method, identity=identity, device_id=device_id
        )
        if on_record is not None:
            on_record(session, record_id)
    if approve is not None and not approve(job):
        declined = _finish(station, record_id, job, "aborted", "confirmation did not match", None)
        return dataclasses.replace(declined, approved=False)
    hidden = job.hidden
    if hidden.status == "present":
        hidden = restore_native_max(drive.path, hidden, consent=options.restore_hidden)
    try:
        result = sanitize(
            drive.path,
            plan,
            verify_method=options.verify_method,
            seed=options.seed,
            hidden=hidden if hidden.status != "not-checked" else None,
            pattern_secret=options.pattern_secret,
            on_progress=on_progress,
            cancel=cancel,
        )
    except WipeError as e:  # refused or busy at open: nothing was written
        return _finish(station, record_id, job, "failed", str(e), None)
    # Health again after the wipe: the certificate's assurance record states both readings.
    after = None if result.device_gone else check_health(drive.path, drive.transport)
    return _finish(station, record_id, job, result.outcome, result.reason, result, after)


def _finish(
    station: Station,
    record_id: int,
    job: WipeJob,
    outcome: str,
    reason: str,
    result: WipeResult | None,
    health_after: Health | None = None,
) -> WipeRun:
    record = _stored(job, result.to_dict() if result is not None else {"reason": reason})
    if health_after is not None:
        record["health_after"] = health_after.to_dict()
    with station.session() as session:
        sanitizations.finish_record(session, record_id, outcome=outcome, result=record)
    return WipeRun(record_id, job, outcome, reason, result, record)


def _stored(job: WipeJob, data: dict[str, Any]) -> dict[str, Any]:
    """The record's result JSON: the engine's result plus the drive and its health."""
    drive = job.drive
    return {
        **data,
        "plan": data.get("plan") or job.plan.to_dict(),
        "device": {
            "model": drive.model,
            "serial": drive.serial,
            "media_type": drive.media_type,
            "transport": drive.transport,
        },
        "health": job.health.to_dict() if job.health is not None else None,
    }
