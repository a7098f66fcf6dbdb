"""Certifying a device that passed every step, and the second person's accept/reject before it.

NIST SP 800-88 Rev. 2 separates verification (did the technique complete, what did the
read-back find) from validation: a decision that the result is acceptable. By default the
operator who ran the device takes it, at the moment the certificate is issued. An agreement
with `validation = "second-person"` makes the device wait in `post_scanned` until a
different registered operator accepts it (`device validate ID --operator OTHER --accept`),
which issues the certificate, or rejects it, which fails the device with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asset_pipeline.errors import CertificateRefused, ValidationRefused
from asset_pipeline.evidence.issuing import (
    IssuedCertificate,
    issue_sanitization_certificate,
    performer_name,
)
from asset_pipeline.flow import lifecycle
from asset_pipeline.flow.states import State
from asset_pipeline.station.identity import require_certifying
from asset_pipeline.storage import Device, sanitizations, scans
from asset_pipeline.storage.devices import find_device
from asset_pipeline.storage.operators import latest_validation, record_validation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station

log = logging.getLogger(__name__)

SECOND_PERSON = "second-person"
AWAITING = "awaiting validation by a second operator"


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """What a validation decision did to the device."""

    device_id: int
    decision: str  # accept | reject
    validated_by: str
    state: str
    certificate_id: str | None = None
    certificate_pdf: str | None = None
    reason: str = ""  # why it ended failed (rejected, or its batch was closed meanwhile)


def needs_second_person(session: Session, device: Device) -> bool:
    """True while the device's agreement asks for a second person who has not decided yet."""
    if device.batch is None or device.batch.agreement.validation != SECOND_PERSON:
        return False
    return latest_validation(session, device) is None


def certify(session: Session, station: Station, device: Device) -> IssuedCertificate:
    """Issue the certificate of sanitization from the stored results and mark it certified.

    Raises:
        CertificateRefused: no passed wipe or post-scan is stored, an invariant does not hold,
            or the agreement's validation has not been given.
    """
    wipe_result = sanitizations.latest_passed_wipe(session, device)
    post = scans.latest_scan(session, device, "post")
    if wipe_result is None or post is None:
        raise CertificateRefused(f"device {device.id} has no stored passed wipe and post-scan")
    issued = issue_sanitization_certificate(
        session,
        station,
        device,
        wipe_result=wipe_result,
        pre_scan=scans.latest_scan(session, device, "pre"),
        post_scan=post,
    )
    lifecycle.advance(session, station, device, State.CERTIFIED,
                      payload={"certificate_id": issued.cert_id})  # fmt: skip
    return issued


def validate(
    station: Station, device_id: int, operator: str, decision: str, reason: str = ""
) -> ValidationOutcome:
    """Record `operator`'s decision on a device that waits for a second person.

    Accepting issues the certificate (the validator is named on it); rejecting ends the
    device `failed` with the reason, so it goes on to destruction or a new run.

    Raises:
        DeviceNotFound, OperatorNotFound: unknown device or operator.
        StationNotReady: the station may not certify (placeholder organisation).
        ValidationRefused: the device does not wait for validation, or the validator is
            the person who performed the sanitization.
    """
    with station.session() as session:
        device = find_device(session, device_id)
        if device.state != State.POST_SCANNED.value:
            raise ValidationRefused(
                f"device {device_id} is {device.state}; only a device in post_scanned waits "
                "for validation"
            )
        if not needs_second_person(session, device):
            raise ValidationRefused(
                f"device {device_id} does not wait for a second person (its agreement has the "
                "operator validate, or a decision was already recorded)"
            )
        validator = require_certifying(station, session, operator)
        performer = performer_name(session, device, station)
        if validator.name == performer:
            raise ValidationRefused(
                f"{validator.name} performed the sanitization of device {device_id}; a second, "
                "different operator must validate it"
            )
        if decision == "reject" and not reason.strip():
            raise ValidationRefused("a rejection needs a reason (--reason)")
        if not device.batch.is_open:
            # A closed batch takes no more certificates (it was closed with --force while
            # this device waited): the device ends failed with the reason, as under `resume`.
            why = device.batch.close_reason
            closed = f"batch {device.batch_id} was closed" + (f": {why}" if why else "")
            lifecycle.advance(session, station, device, State.FAILED, reason=closed)
            return ValidationOutcome(device_id, decision, validator.name, device.state,
                                     reason=closed)  # fmt: skip
        row = record_validation(session, device, validator, decision, reason)
        from asset_pipeline.evidence import audit

        audit.append_event(
            session,
            station_id=station.config.station_id,
            operator=validator.name,
            event_type="device.validated",
            payload={"decision": decision, "validation_id": row.id, "operator_id": validator.id},
            batch_id=device.batch_id,
            device_id=device.id,
        )
        if decision == "accept":
            issued = certify(session, station, device)
            return ValidationOutcome(device_id, decision, validator.name, device.state,
                                     issued.cert_id, str(issued.pdf_path))  # fmt: skip
        rejected = f"rejected at validation by {validator.name}: {reason.strip()}"
        lifecycle.advance(session, station, device, State.FAILED, reason=rejected)
        return ValidationOutcome(device_id, decision, validator.name, device.state,
                                 reason=rejected)  # fmt: skip
