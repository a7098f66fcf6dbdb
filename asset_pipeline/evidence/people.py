"""The people on a certificate: who performed, who validated (or witnessed), and their signature.

NIST SP 800-88 Rev. 2 §4.6 asks for each person's name, title, date, location, contact and
signature. Names, titles and contacts come from the registered operators (`operator add`), the
location from the station's site and name, and the signature is the station's Ed25519
signature over the whole certificate, made on the named person's behalf: each person block
says so and names the key, and the document's signature covers the block.

These blocks are added after the privacy screen of the technical body: an operator's work
e-mail address is meant to be on the certificate, a customer's never is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import CertificateRefused
from asset_pipeline.evidence.audit import iso_utc
from asset_pipeline.storage import Device, Operator, utcnow
from asset_pipeline.storage.operators import find_operator, latest_validation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.station.context import Station

SECOND_PERSON = "second-person"


def location(station: Station) -> str:
    """Where the station stands: its site and name."""
    config = station.config
    return ", ".join(x for x in (config.site, config.station_name or config.station_id) if x)


def person(operator: Operator, *, role: str, on: str, station: Station) -> dict[str, Any]:
    """One person block; `on` is an ISO date or time (the date is kept)."""
    return {
        "role": role,
        "name": operator.name,
        "title": operator.title,
        "contact": operator.contact,
        "date": on[:10],
        "location": location(station),
        "signature": {
            "kind": "station-on-behalf",
            "algorithm": "Ed25519",
            "key_fingerprint": station.key.fingerprint,
        },
    }


def sanitization_people(
    session: Session, station: Station, device: Device, *, performer: str, on: str
) -> dict[str, Any]:
    """The `validation` and `people` blocks of a certificate of sanitization.

    Raises:
        OperatorNotFound: the performing operator is not registered.
        CertificateRefused: the agreement asks for a second person who has not accepted the
            device, or who is the same person as the performer.
    """
    performed = find_operator(session, performer)
    agreement = device.batch.agreement if device.batch is not None else None
    rule = agreement.validation if agreement is not None else "operator"
    if rule == SECOND_PERSON:
        decision = latest_validation(session, device)
        if decision is None or decision.decision != "accept":
            raise CertificateRefused(
                f"agreement {agreement.reference} asks a second person to validate device "
                f"{device.id} first: asset-pipeline device validate {device.id} --operator "
                "OTHER --accept"
            )
        if decision.operator.name == performed.name:
            raise CertificateRefused(
                f"device {device.id} was validated by {performed.name}, who performed it"
            )
        validator, at = decision.operator, iso_utc(decision.decided_at)
    else:
        # The operator who ran the device accepts it by letting the pipeline certify it.
        validator, at = performed, iso_utc(utcnow())
    return {
        "validation": {"rule": rule, "decision": "accept", "by": validator.name, "at": at},
        "people": {
            "performed_by": person(performed, role="performed", on=on, station=station),
            "validated_by": person(validator, role="validated", on=at, station=station),
        },
    }


def destruction_people(
    session: Session, station: Station, *, performer: str, witness: str, on: str
) -> dict[str, Any]:
    """The `people` block of a certificate of destruction: the recording operator and witness.

    Raises:
        OperatorNotFound: the operator is not registered.
    """
    recorded = find_operator(session, performer)
    return {
        "people": {
            "performed_by": person(recorded, role="performed", on=on, station=station),
            "witness": {"role": "witness", "name": witness, "date": on[:10]},
        }
    }
