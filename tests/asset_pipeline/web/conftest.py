"""A station with real evidence to verify: certificates, a closed batch with its token, a report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from evidence_fixtures import PRE_FINDINGS, load_device, scan_report, wipe_result

from asset_pipeline.evidence import issuing
from asset_pipeline.evidence.batch_report import issue_batch_report
from asset_pipeline.station.context import Station
from asset_pipeline.storage import access, batches
from asset_pipeline.storage import devices as device_store


@dataclass(frozen=True)
class Evidence:
    """What a customer holds after a batch: files, the QR link, the access token."""

    station: Station
    certificate: issuing.IssuedCertificate
    second: issuing.IssuedCertificate
    report_id: str
    token: str
    batch_id: int

    @property
    def link(self) -> str:
        """The verification page path the certificate's QR code names."""
        return f"/c/{self.certificate.cert_id}?h={self.certificate.sha256}"


def certify(station: Station, device_id: int) -> issuing.IssuedCertificate:
    """A sanitization certificate for a registered device."""
    with station.session() as session:
        return issuing.issue_sanitization_certificate(
            session, station, load_device(session, device_id), wipe_result=wipe_result(),
            pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report(),
        )  # fmt: skip


def close_with_token(station: Station, batch_id: int) -> tuple[str, str]:
    """Close the batch, issue its report; (token, report id)."""
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        report = issue_batch_report(session, station, batch)
        batches.close_batch(session, batch)
        return access.issue_token(session, batch), report.report_id


@pytest.fixture
def evidence(station: Station, add_device) -> Evidence:
    first = certify(station, add_device())
    with station.session() as session:
        batch_id = device_store.find_device(session, _device_of(station, first)).batch_id
    second_device = add_device()  # another customer's batch
    second = certify(station, second_device)
    token, report_id = close_with_token(station, batch_id)
    return Evidence(station, first, second, report_id, token, batch_id)


def _device_of(station: Station, issued: issuing.IssuedCertificate) -> int:
    from sqlalchemy import select

    from asset_pipeline.storage import Certificate

    with station.session() as session:
        return session.scalar(
            select(Certificate.device_id).where(Certificate.cert_id == issued.cert_id)
        )


def tamper_json(data: bytes) -> bytes:
    """The signed JSON with one field changed (the serial), still canonical."""
    import json

    from asset_pipeline.evidence.canonical import document_bytes

    document = json.loads(data)
    document["media"]["serial"] = "FORGED-0001"
    return document_bytes(document)


def write(path: Path, data: bytes) -> Path:
    """Write bytes and return the path."""
    path.write_bytes(data)
    return path
