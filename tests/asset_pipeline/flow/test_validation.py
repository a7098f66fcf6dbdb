"""Second-person validation, and the named people a certificate needs before it is issued.

The devices here sit in `post_scanned` with the stored results a pipeline run leaves (a passed
wipe, a pre-scan and a clean post-scan, the `device.sanitizing` event by the operator who ran
it); the run itself is covered by the pipeline tests.
"""

from __future__ import annotations

import json

import pytest
from evidence_fixtures import OPERATOR, PRE_FINDINGS, VALIDATOR, load_device, scan_report
from evidence_fixtures import wipe_result as make_wipe
from sqlalchemy import select

from asset_pipeline.errors import (
    CertificateRefused,
    OperatorNotFound,
    StationNotReady,
    ValidationRefused,
)
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.flow import pipeline, validation
from asset_pipeline.station.config import write_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import AuditEvent, Certificate, Sanitization, ScanSummary, operators
from asset_pipeline.storage.batches import find_batch
from tests.asset_pipeline.flow.conftest import cli, log_verifies, open_batch, verify_certificate
from tests.conftest import MiB, needs_loop


@pytest.fixture(autouse=True)
def people(station: Station) -> None:
    """The operator who runs the devices and a second one who validates."""
    with station.session() as session:
        for name, title, contact in (OPERATOR, VALIDATOR):
            operators.add_operator(session, name, title=title, contact=contact)


def sanitized(station: Station, add_device, *, rule: str = "second-person", by: str = OPERATOR[0]):
    """A device in post_scanned with its stored results, sanitized by operator `by`."""
    device_id = add_device(state="post_scanned")
    with station.session() as session:
        device = load_device(session, device_id)
        device.batch.agreement.validation = rule
        session.add(Sanitization(device_id=device_id, level="clear", method="overwrite-random-zero",
                                 outcome="passed", result=make_wipe()))  # fmt: skip
        for phase, report in (("pre", scan_report(PRE_FINDINGS)), ("post", scan_report())):
            session.add(ScanSummary(device_id=device_id, phase=phase, target="/dev/loop9",
                                    total_findings=0, report=report))  # fmt: skip
        audit.append_event(session, station_id=station.config.station_id, operator=by,
                           event_type="device.sanitizing", payload={}, batch_id=device.batch_id,
                           device_id=device_id)  # fmt: skip
    return device_id


def test_second_person_is_required_before_the_certificate(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device)
    with station.session() as session:
        device = load_device(session, device_id)
        assert validation.needs_second_person(session, device)
        with pytest.raises(CertificateRefused, match="asks a second person to validate"):
            validation.certify(session, station, device)
    with station.session() as session:
        assert session.scalar(select(Certificate.id)) is None
        assert load_device(session, device_id).state == "post_scanned"


def test_the_performer_cannot_validate_their_own_work(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device)
    with pytest.raises(ValidationRefused, match="second, different operator"):
        validation.validate(station, device_id, OPERATOR[0], "accept")
    with pytest.raises(OperatorNotFound):
        validation.validate(station, device_id, "Okänd Person", "accept")
    with station.session() as session:
        assert load_device(session, device_id).state == "post_scanned"


def test_a_second_operator_accepts_and_both_are_named(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device)
    station.operator_override = VALIDATOR[0]
    outcome = validation.validate(station, device_id, VALIDATOR[0], "accept")
    assert (outcome.decision, outcome.state) == ("accept", "certified")
    with station.session() as session:
        row = session.scalar(select(Certificate).where(Certificate.device_id == device_id))
        doc = json.loads(row.document)
        assert verify_bytes(row.document.encode(), station.key.public_key, session=session).ok
        events = [
            e.event_type
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.device_id == device_id).order_by(AuditEvent.seq)
            )
        ]
    assert doc["validation"]["rule"] == "second-person"
    assert (doc["validation"]["decision"], doc["validation"]["by"]) == ("accept", VALIDATOR[0])
    assert doc["people"]["performed_by"]["name"] == OPERATOR[0]
    assert doc["people"]["validated_by"]["name"] == VALIDATOR[0]
    assert doc["people"]["validated_by"]["title"] == VALIDATOR[1]
    assert events[-4:] == ["device.validated", "device.closed", "certificate.issued",
                           "device.certified"]  # fmt: skip
    with pytest.raises(ValidationRefused, match="is certified"):
        validation.validate(station, device_id, VALIDATOR[0], "accept")


def test_a_rejection_fails_the_device_with_the_reason(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device)
    with pytest.raises(ValidationRefused, match="needs a reason"):
        validation.validate(station, device_id, VALIDATOR[0], "reject")
    outcome = validation.validate(station, device_id, VALIDATOR[0], "reject", "etikett saknas")
    assert (outcome.decision, outcome.state) == ("reject", "failed")
    with station.session() as session:
        device = load_device(session, device_id)
        assert device.state_reason == f"rejected at validation by {VALIDATOR[0]}: etikett saknas"
        assert session.scalar(select(Certificate.id)) is None


def test_an_agreement_without_a_second_person_certifies_on_the_operator(
    station: Station, add_device
) -> None:
    device_id = sanitized(station, add_device, rule="operator")
    with pytest.raises(ValidationRefused, match="does not wait for a second person"):
        validation.validate(station, device_id, VALIDATOR[0], "accept")
    with station.session() as session:
        issued = validation.certify(session, station, load_device(session, device_id))
    assert issued.signed.document["validation"]["by"] == OPERATOR[0]


def test_no_certificate_without_a_registered_operator(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device, rule="operator", by="tekniker-utan-namn")
    with station.session() as session, pytest.raises(OperatorNotFound, match="operator add"):
        validation.certify(session, station, load_device(session, device_id))


def test_no_certificate_for_the_placeholder_organisation(station: Station, add_device) -> None:
    device_id = sanitized(station, add_device, rule="operator")
    config = station.config.updated()[0]
    placeholder = type(config)(**{**vars_of(config), "organization": "Refurbisher AB"})
    write_config(station.data_dir, placeholder)
    station.reconfigure(placeholder)
    with station.session() as session, pytest.raises(StationNotReady, match="placeholder"):
        validation.certify(session, station, load_device(session, device_id))


def vars_of(config) -> dict:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}


@needs_loop
def test_the_pipeline_waits_in_post_scanned_for_the_second_person(
    station: Station, make_loop, customer_drive
) -> None:
    """A real drive through `process`: no certificate until a different operator accepts it."""
    batch_id = open_batch(station, discovery=False)
    with station.session() as session:
        find_batch(session, batch_id).agreement.validation = "second-person"
    dev = make_loop(image=customer_drive(16 * MiB).image)
    ran = cli(station, "process", str(dev), "--batch", str(batch_id), "--yes", "--json",
              "--operator", OPERATOR[0])  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert (out["state"], out["reason"]) == ("post_scanned", validation.AWAITING)
    assert out["certificate_id"] is None
    assert pipeline.unfinished_devices(station) == []  # not for `resume`: it waits on purpose
    accepted = cli(station, "device", "validate", str(out["device_id"]), "--operator",
                   VALIDATOR[0], "--accept", "--json")  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    pdf = json.loads(accepted.stdout)["certificate_pdf"]
    verify_certificate(station, pdf)
    with station.session() as session:
        types = list(session.scalars(select(AuditEvent.event_type)
                                     .where(AuditEvent.device_id == out["device_id"])
                                     .order_by(AuditEvent.seq)))  # fmt: skip
        doc = json.loads(session.scalar(select(Certificate.document)))
    assert types[-6:] == ["device.post_scanned", "device.awaiting_validation",
                          "device.validated", "device.closed", "certificate.issued",
                          "device.certified"]  # fmt: skip
    assert doc["people"]["performed_by"]["name"] == OPERATOR[0]
    assert doc["people"]["validated_by"]["name"] == VALIDATOR[0]
    # Health was read before and after the wipe (a loop device has no SMART: unknown, said so).
    assert doc["assurance"]["health"]["before"]["status"] == "unknown"
    assert doc["assurance"]["health"]["after"]["status"] == "unknown"
    assert {"code": "health-unknown"} in doc["assurance"]["not_reached"]
    assert log_verifies(station)


def test_process_refuses_before_touching_the_drive(station: Station, customer_drive) -> None:
    batch_id = open_batch(station)
    image = customer_drive(4 * MiB).image
    before = image.read_bytes()
    ran = cli(station, "process", str(image), "--batch", str(batch_id), "--yes",
              "--operator", "Okänd")  # fmt: skip
    assert ran.returncode == 1
    assert ran.stderr.startswith("Error: no operator 'Okänd' is registered")
    assert image.read_bytes() == before
