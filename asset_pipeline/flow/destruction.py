"""Recording a device's physical destruction: its certificate and its last state, together.

A device may be destroyed from the states the transition table lets reach `destroyed` (failed,
aborted, destruction_pending); the certificate says why (the plan ended in destroy, or the
device's failure) and `lifecycle.advance` writes the state in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from asset_pipeline.errors import CertificateRefused
from asset_pipeline.evidence.issuing import (
    IssuedCertificate,
    issue_destruction_certificate,
    latest_certificate,
)
from asset_pipeline.evidence.privacy import check_payload
from asset_pipeline.flow import lifecycle
from asset_pipeline.flow.states import State, allowed
from asset_pipeline.storage import sanitizations

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import Device


def record_destruction(
    session: Session,
    station: Station,
    device: Device,
    *,
    method: str,
    destroyed_on: date,
    witness: str,
    facility: str = "",
    notes: Sequence[str] = (),
) -> IssuedCertificate:
    """Issue the certificate of destruction for `device` and move it to `destroyed`.

    Raises:
        CertificateRefused: the device may not be destroyed from its state, already has a
            certificate of destruction, or the method, date or witness is refused.
    """
    if latest_certificate(session, device, "destruction") is not None:
        raise CertificateRefused(f"device {device.id} already has a certificate of destruction")
    current = State(device.state) if device.state else None
    if current is None or not allowed(current, State.DESTROYED):
        raise CertificateRefused(
            f"device {device.id} is {device.state or 'new'}; destruction is recorded for devices "
            "whose wipe failed or whose plan ends in destroy"
        )
    issued = issue_destruction_certificate(
        session,
        station,
        device,
        method=method,
        destroyed_on=destroyed_on,
        witness=witness,
        reason=_reason(session, device),
        reason_code=_reason_code(session, device),
        facility=facility,
        notes=notes,
    )
    lifecycle.advance(
        session, station, device, State.DESTROYED, reason=f"{method} on {destroyed_on.isoformat()}"
    )
    return issued


def _reason_code(session: Session, device: Device) -> str:
    """The reason as the certificate's catalogue names it (plan-destroy, aborted, wipe-failed)."""
    plan = sanitizations.latest_plan(session, device)
    if plan is not None and plan.get("method") == "destroy":
        return "plan-destroy"
    return "aborted" if device.state == State.ABORTED.value else "wipe-failed"


def _reason(session: Session, device: Device) -> str:
    plan = sanitizations.latest_plan(session, device)
    if plan is not None and plan.get("method") == "destroy":
        return "the sanitization plan ends in destroy"
    reason = f"device {device.state}" + (f": {device.state_reason}" if device.state_reason else "")
    screened = check_payload({"reason": reason}, where="destruction reason", on_match="withhold")
    return screened["reason"]
