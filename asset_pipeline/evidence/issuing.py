"""Issuing per-device certificates: sanitization and destruction, signed, stored and written.

Each certificate is sealed to the processing log: issuing appends a `certificate.issued` event
(after the `device.closed` event that closed its device), then the certificate carries the
closing event's seq and hash, the station's signed tree head covering both events, and the
closing event's inclusion proof under that head (`heads.seal`). The signed
JSON goes into the `certificate` table and to `<data-dir>/certificates/<id>.json`, its PDF
rendering beside it as `<id>.pdf`.

A certificate names people (NIST SP 800-88 Rev. 2 §4.6): who performed the sanitization and
who validated it, each with title, contact, date and location, and the station's signature
made on their behalf. So none is issued for the placeholder organisation, nor for an
operator who is not registered (`operator add`), nor, when the agreement asks for a second
person, before a different operator accepted the device (`device validate`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from asset_pipeline import __version__
from asset_pipeline.errors import CertificateNotFound, CertificateRefused, EvidenceError
from asset_pipeline.evidence import audit, content, people
from asset_pipeline.evidence.audit import iso_utc
from asset_pipeline.evidence.heads import seal
from asset_pipeline.evidence.pdf import render_pdf
from asset_pipeline.evidence.pdf_signature import sign_pdf
from asset_pipeline.evidence.privacy import check_payload, screen
from asset_pipeline.evidence.signing import (
    DESTRUCTION,
    SANITIZATION,
    SCHEMAS,
    SignedDocument,
    sign_document,
)
from asset_pipeline.station.atomic import write_atomic
from asset_pipeline.station.identity import require_organization
from asset_pipeline.station.keys import PUBLIC_KEY_NAME
from asset_pipeline.storage import AuditEvent, Certificate, Device, utcnow

if TYPE_CHECKING:
    from asset_pipeline.station.context import Station

log = logging.getLogger(__name__)

PREFIXES = {"sanitization": "SAN", "destruction": "DES", "batch_report": "RPT"}
PUBLIC_KEY_FILE = PUBLIC_KEY_NAME  # the file beside the key; the PDF footer names it


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate that was signed, stored and written."""

    cert_id: str
    kind: str
    json_path: Path
    pdf_path: Path
    sha256: str
    signed: SignedDocument


def issue_sanitization_certificate(
    session: Session,
    station: Station,
    device: Device,
    *,
    wipe_result: Any,
    pre_scan: Any | None,
    post_scan: Any,
    closing_event: AuditEvent | None = None,
    destination: str = "reuse",
    classification: str = "unclassified",
    notes: Sequence[str] = (),
) -> IssuedCertificate:
    """Issue the certificate of sanitization for `device`.

    Args:
        session: the caller's session (the certificate row and events join its transaction).
        station: the issuing station (identity, operator, key, data directory).
        device: a device registered in a batch.
        wipe_result: the wipe engine's result (its JSON shape: plan, steps, verification, ...).
        pre_scan: the pre-sanitization scan report, or None when discovery was not instructed.
        post_scan: the post-sanitization scan report; it must have found nothing.
        closing_event: the audit event that closed the device; None appends `device.closed`.
        destination: reuse | recycle | destroy | return_to_customer.
        classification: post-sanitization confidentiality categorization.
        notes: short operator notes (no personal data).

    Raises:
        CertificateRefused: an invariant does not hold (outcome, verification, post-scan,
            required level, validation) or the device is in no batch.
        StationNotReady: the station's organisation is the placeholder.
        OperatorNotFound: the operator who performed it is not registered.
    """
    batch = _batch_of(device)
    require_organization(station.config)
    pre = content.scan_summary(pre_scan)
    post = content.scan_summary(post_scan)
    body = content.sanitization_body(
        wipe_result,
        agreement=batch.agreement,
        device=device,
        pre=pre,
        post=post,
        destination=destination,
        classification=classification,
        notes=notes,
    )
    body["scans"] = {"pre": pre, "post": post}
    body = check_payload(body, where="sanitization record")  # every string, not only some
    ended = str(body["sanitization"]["ended_at"] or iso_utc(utcnow()))
    involved = people.sanitization_people(
        session, station, device, performer=performer_name(session, device, station), on=ended
    )
    if closing_event is None:
        closing_event = _close_device(session, station, device, "sanitized", body)
    return _issue(session, station, device, "sanitization", {**body, **involved}, closing_event)


def issue_destruction_certificate(
    session: Session,
    station: Station,
    device: Device,
    *,
    method: str,
    destroyed_on: date,
    witness: str,
    reason: str,
    reason_code: str = "wipe-failed",
    facility: str = "",
    notes: Sequence[str] = (),
    closing_event: AuditEvent | None = None,
) -> IssuedCertificate:
    """Issue the certificate of destruction (`flow.destruction` decides whether it may be).

    Raises:
        CertificateRefused: the device already has a destruction certificate, the method is
            unknown, the date is in the future, or no witness.
    """
    _batch_of(device)  # refuse early: a destruction record also binds to an agreement
    if _existing(session, device, "destruction"):
        raise CertificateRefused(f"device {device.id} already has a certificate of destruction")
    if method not in content.DESTRUCTION_METHODS:
        choices = ", ".join(content.DESTRUCTION_METHODS)
        raise CertificateRefused(f"destruction method {method!r} is not one of {choices}")
    if destroyed_on > utcnow().date():
        raise CertificateRefused(f"destruction date {destroyed_on.isoformat()} is in the future")
    if not witness.strip():
        raise CertificateRefused("a destruction needs a witness")
    require_organization(station.config)
    body = {
        "destruction": {
            "method": "Destroy",
            "ieee_2883": {"method": "Destruct", "technique": method},
            "destroyed_on": destroyed_on.isoformat(),
            "facility": facility,
            "reason_code": reason_code,  # what the page says (plan-destroy, wipe-failed, aborted)
            "reason": reason,
        },
        "post_sanitization": {"categorization": "destroyed", "destination": "destroy"},
        "notes": list(notes),
    }
    body = check_payload(body, where="destruction record")
    involved = people.destruction_people(
        session, station, performer=station.operator, witness=witness.strip(),
        on=destroyed_on.isoformat(),
    )  # fmt: skip
    body.update(involved)
    if closing_event is None:
        closing_event = _close_device(session, station, device, "destroyed", body)
    return _issue(session, station, device, "destruction", body, closing_event)


def find_certificate(session: Session, cert_id: str) -> Certificate:
    """A stored certificate or report by id.

    Raises:
        CertificateNotFound: no such id.
    """
    found = session.scalar(select(Certificate).where(Certificate.cert_id == cert_id))
    if found is None:
        raise CertificateNotFound(cert_id)
    return found


def latest_certificate(session: Session, device: Device, kind: str) -> Certificate | None:
    """The device's newest certificate of `kind` (sanitization | destruction)."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.device_id == device.id, Certificate.kind == kind)
        .order_by(Certificate.id.desc())
    )


def new_id(kind: str) -> str:
    """A readable, unique-enough id: `SAN-20261127-3f9a1c2b7d` (the table enforces unique).

    The random part is drawn again when the id would look like personal data to the evidence's
    screen: ten random hex digits are all digits about once in a hundred, and a few of those
    are a valid samordningsnummer (`SAN-20261203-7811650808`), which the processing log then
    withheld, leaving the certificate without its issued event's id.
    """
    while True:
        found = f"{PREFIXES[kind]}-{utcnow():%Y%m%d}-{secrets.token_hex(5)}"
        if screen(found) is None:
            return found


def issuer(station: Station) -> dict[str, Any]:
    """Who issued it: organisation, site, station, tool, and the key that signs it."""
    config = station.config
    return {
        "organization": config.organization,
        "org_number": config.org_number,
        "site": config.site,
        "station_id": config.station_id,
        "station_name": config.station_name,
        "operator": station.operator,
        "tool": "asset-pipeline",
        "tool_version": __version__,
        "key_fingerprint": station.key.fingerprint,
        "public_key_file": PUBLIC_KEY_FILE,
    }


def performer_name(session: Session, device: Device, station: Station) -> str:
    """Who performed the sanitization: the operator on the device's sanitizing event.

    Falls back to the station's current operator for a device with no such event (a wipe
    recorded outside the pipeline).
    """
    name = session.scalar(
        select(AuditEvent.operator)
        .where(
            AuditEvent.device_id == device.id,
            AuditEvent.event_type.in_(("device.sanitizing", "device.verified")),
        )
        .order_by(AuditEvent.seq.desc())
    )
    return name or station.operator


def write_evidence(
    directory: Path, doc_id: str, signed: SignedDocument, station: Station
) -> tuple[Path, Path]:
    """Write `<id>.json` and `<id>.pdf` (PDF-signed) atomically into `directory`."""
    pdf = render_pdf(signed, verify_url=station.config.verify_url)
    pdf = sign_pdf(pdf, station.key, station.certificate)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        json_path, pdf_path = directory / f"{doc_id}.json", directory / f"{doc_id}.pdf"
        write_atomic(json_path, signed.data)
        write_atomic(pdf_path, pdf)
    except OSError as e:
        raise EvidenceError(f"cannot write {doc_id} into {directory}: {e.strerror}") from e
    return json_path, pdf_path


def store_signed(
    session: Session,
    station: Station,
    directory: Path,
    unsigned: dict[str, Any],
    *,
    kind: str,
    batch_id: int | None,
    device_id: int | None = None,
) -> tuple[SignedDocument, Path, Path]:
    """Sign a document with the station key, write its JSON and PDF, and add its row."""
    signed = sign_document(unsigned, station.key)
    doc_id = unsigned["id"]
    json_path, pdf_path = write_evidence(directory, doc_id, signed, station)
    # Taken back if the row's transaction rolls back (a lost database connection, a failure
    # later in the step): no certificate file exists without its row and events.
    session.info.setdefault(_UNCOMMITTED, []).extend((json_path, pdf_path))
    session.add(
        Certificate(
            cert_id=doc_id,
            device_id=device_id,
            batch_id=batch_id,
            kind=kind,
            document=signed.data.decode("utf-8"),
            sha256=signed.sha256,
        )
    )
    return signed, json_path, pdf_path


_UNCOMMITTED = "asset_pipeline.uncommitted_files"


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


@event.listens_for(Session, "after_soft_rollback")
def _files_rolled_back(session: Session, _previous: object) -> None:
    for path in session.info.pop(_UNCOMMITTED, ()):
        path.unlink(missing_ok=True)


def _issue(
    session: Session,
    station: Station,
    device: Device,
    kind: str,
    body: dict[str, Any],
    closing_event: AuditEvent,
) -> IssuedCertificate:
    if closing_event.device_id != device.id:
        raise CertificateRefused(
            f"closing event {closing_event.seq} belongs to device {closing_event.device_id}, "
            f"not {device.id}"
        )
    schema = SANITIZATION if kind == "sanitization" else DESTRUCTION
    batch = _batch_of(device)
    cert_id = new_id(kind)
    # The issuing event names the certificate by id only, so the head signed next covers it
    # and the certificate can carry that head (its hash is in the certificate row).
    audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="certificate.issued",
        payload={"certificate_id": cert_id, "kind": kind},
        batch_id=batch.id,
        device_id=device.id,
    )
    unsigned = {
        "schema": schema,
        "schema_version": SCHEMAS[schema],
        "id": cert_id,
        "kind": kind,
        "issued_at": iso_utc(utcnow()),
        "issuer": issuer(station),
        "customer": content.customer_binding(batch),
        "media": content.media(device),
        "media_source": content.media_source(device, batch),
        "processing": {
            "started_at": iso_utc(_first_event_time(session, device)),
            "ended_at": iso_utc(closing_event.occurred_at),
        },
        **seal(session, station, closing_event),
        **body,
    }
    signed, json_path, pdf_path = store_signed(
        session, station, station.certificates_dir, unsigned,
        kind=kind, batch_id=batch.id, device_id=device.id,
    )  # fmt: skip
    log.info("issued %s certificate %s for device %s", kind, cert_id, device.id)
    return IssuedCertificate(cert_id, kind, json_path, pdf_path, signed.sha256, signed)


def _close_device(
    session: Session, station: Station, device: Device, outcome: str, body: dict[str, Any]
) -> AuditEvent:
    method = body.get("sanitization", body.get("destruction", {}))
    return audit.append_event(
        session,
        station_id=station.config.station_id,
        operator=station.operator,
        event_type="device.closed",
        payload={
            "outcome": outcome,
            "method": method.get("method"),
            "technique": method.get("ieee_2883", {}).get("technique"),
        },
        batch_id=device.batch_id,
        device_id=device.id,
    )


def _batch_of(device: Device) -> Any:
    if device.batch is None:
        raise CertificateRefused(
            f"device {device.id} is in no batch; a certificate binds it to an agreement"
        )
    return device.batch


def _existing(session: Session, device: Device, kind: str) -> bool:
    query = select(Certificate.id).where(Certificate.device_id == device.id)
    return session.scalar(query.where(Certificate.kind == kind)) is not None


def _first_event_time(session: Session, device: Device) -> Any:
    first = session.scalar(
        select(AuditEvent.occurred_at)
        .where(AuditEvent.device_id == device.id)
        .order_by(AuditEvent.seq)
    )
    return first if first is not None else device.created_at
