"""Moving a device between pipeline states: persisted and logged together, or not at all.

`advance` is the only way the pipeline changes `device.state`. It checks the transition against
`states.TRANSITIONS`, writes the new state and appends the `device.<state>` audit event in the
caller's transaction, so a crash leaves either both or neither.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import TransitionNotAllowed
from asset_pipeline.evidence import audit
from asset_pipeline.flow.states import State, allowed
from asset_pipeline.storage import AuditEvent, Device, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station


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

    Raises:
        TransitionNotAllowed: `to` does not follow the device's current state.
    """
    current = State(device.state)
    if not allowed(current, to):
        raise TransitionNotAllowed(f"can't go to {to.value} when in {current.value}")
    device.state = to.value
    device.state_reason = reason
    device.updated_at = utcnow()
    body = {"from": current.value, **(payload or {})}
    if reason:
        body["reason"] = reason
    return audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type=f"device.{to.value}",
        payload=body,
        batch_id=device.batch_id,
        device_id=device.id,
    )


def record_detected(session: Session, station: Station, device: Device) -> AuditEvent:
    """Log a new device's first state (`detected`), which no transition leads into."""
    device.state = State.DETECTED.value
    return audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="device.detected",
        payload={"path": device.path, "transport": device.transport},
        batch_id=device.batch_id,
        device_id=device.id,
    )


def worker_id() -> str:
    """Who is working on a device: this host and process (a crash leaves a dead claim)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
    host, _, pid = device.claimed_by.rpartition(":")
    if host != socket.gethostname():
        return True
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _is_station_process(int(pid))


def _is_station_process(pid: int) -> bool:
    # A recycled pid may now belong to something else; only a station process holds a claim.
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()  # noqa: SIM115
    except OSError:
        return False
    return b"asset_pipeline" in cmdline or b"asset-pipeline" in cmdline or b"pytest" in cmdline
