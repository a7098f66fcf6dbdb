"""Moving a device between pipeline states: persisted and logged together, or not at all.

`advance` is the only writer of `device.state`, from a new device's first state to its
destruction. It checks the transition against `states.TRANSITIONS`, writes the new state and
appends the `device.<state>` audit event in the caller's transaction, so a crash leaves either
both or neither. Claims say which live process works on a device.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import TransitionNotAllowed
from asset_pipeline.evidence import audit
from asset_pipeline.flow.states import State, allowed
from asset_pipeline.storage import AuditEvent, Device, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station

# States after which a drive linked to a customer asset counts as processed (custody step).
PROCESSED = frozenset({State.CERTIFIED, State.FAILED, State.DESTROYED})


def advance(
    session: Session,
    station: Station,
    device: Device,
    to: State,
    *,
    reason: str = "",
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Move `device` to `to` and log it (flushed; the caller commits).

    A device without a state (just created) may only become `states.INITIAL` (detected).

    Raises:
        TransitionNotAllowed: `to` does not follow the device's current state.
    """
    current = State(device.state) if device.state else None
    if not allowed(current, to):
        raise TransitionNotAllowed(
            f"can't go to {to.value} when in {current.value if current else 'no state'}"
        )
    device.state = to.value
    device.state_reason = reason
    device.updated_at = utcnow()
    body: dict[str, Any] = {} if current is None else {"from": current.value}
    body.update(payload or {})
    if reason:
        body["reason"] = reason
    event = audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type=f"device.{to.value}",
        payload=body,
        batch_id=device.batch_id,
        device_id=device.id,
    )
    if device.asset_id is not None and to in PROCESSED:
        # The asset's custody follows its drive: "drive processed", with the outcome.
        from asset_pipeline.intake.linking import drive_processed

        drive_processed(session, station, device, to.value, payload)
    return event


def worker_id() -> str:
    """Who is working on a device: this host, its boot, this process and its start time.

    The boot id and start time make a claim name one process for ever: after a crash (or a
    reboot) a new process that happens to get the same pid does not look like the claimant.
    """
    pid = os.getpid()
    return f"{socket.gethostname()}:{_boot_id()}:{pid}:{_start_time(pid)}"


def claim(device: Device) -> None:
    """Mark `device` as being worked on by this process."""
    device.claimed_by = worker_id()
    device.claimed_at = utcnow()


def release(device: Device) -> None:
    """Clear this process's claim once the device has reached a resting state."""
    device.claimed_by = ""


def claim_is_alive(device: Device) -> bool:
    """True when the claiming process still runs (on this host; other hosts count as alive)."""
    if not device.claimed_by:
        return False
    host, _, rest = device.claimed_by.partition(":")
    if host != socket.gethostname():
        return True
    boot, _, process = rest.partition(":")
    pid, _, started = process.partition(":")
    if boot != _boot_id() or not pid.isdigit():
        return False  # claimed before this machine's last boot
    return _start_time(int(pid)) == started


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "noboot"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces, so count after its closing ")".
    return stat.rpartition(")")[2].split()[19]
