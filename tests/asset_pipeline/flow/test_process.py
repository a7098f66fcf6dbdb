"""One device through the whole pipeline on real loop devices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from asset_pipeline.errors import BatchClosed
from asset_pipeline.flow import pipeline
from asset_pipeline.storage import AuditEvent, Certificate, Device
from asset_pipeline.storage.batches import close_batch, find_batch
from tests.asset_pipeline.flow.conftest import (
    cli,
    log_verifies,
    open_batch,
    pull,
    verify_certificate,
)
from tests.conftest import needs_loop
from wipe import GuardRefusal
from wipe.blockdev import system_device_names

# Categories the scan finds exactly as planted (names in a deleted file need the text path,
# which only runs on live files, so person_name is checked against the live files alone).
EXACT = ("personnummer", "samordningsnummer", "email", "phone", "iban", "payment_card",
         "postal_address")  # fmt: skip


def planted_total(drive, category: str) -> int:
    return drive.planted.totals[category] + drive.planted.deleted[category]


@needs_loop
def test_device_is_certified_with_counts_matching_what_was_planted(
    station, batch, make_loop, customer_drive
) -> None:
    drive = customer_drive()
    dev = make_loop(image=drive.image)
    outcome = pipeline.process(station, str(dev), batch)
    assert outcome.state == "certified", outcome.reason
    for category in EXACT:
        assert outcome.pre_scan["findings"][category] == planted_total(drive, category), category
    assert outcome.pre_scan["findings"]["person_name"] >= drive.planted.totals["person_name"]
    assert sum(outcome.post_scan["findings"].values()) == 0
    assert Path(outcome.certificate_json).exists()
    verify_certificate(station, outcome.certificate_pdf)
    assert log_verifies(station)
    data = drive.image.read_bytes()
    assert b"kundregister" not in data
    assert b"Utkast" not in data  # the deleted file's blocks too
    assert data[510:512] != b"\x55\xaa"  # no partition table left


@needs_loop
def test_every_state_is_logged_in_order(station, batch, make_loop, customer_drive) -> None:
    dev = make_loop(image=customer_drive().image)
    outcome = pipeline.process(station, str(dev), batch)
    with station.session() as session:
        types = list(
            session.scalars(
                select(AuditEvent.event_type)
                .where(AuditEvent.device_id == outcome.device_id)
                .order_by(AuditEvent.seq)
            )
        )
    assert types == [
        "device.detected", "device.identified", "device.guarded", "device.registered",
        "device.pre_scanned", "device.sanitizing", "device.verified", "device.post_scanned",
        "device.closed", "certificate.issued", "device.certified",
    ]  # fmt: skip


@needs_loop
def test_progress_names_the_stored_state_of_each_step(
    station, batch, make_loop, customer_drive
) -> None:
    """While the wipe runs, the device is stored as `sanitizing`, and its bay must say so."""
    dev = make_loop(image=customer_drive().image)
    seen: dict[str, set[str]] = {}

    def report(progress: pipeline.StepProgress) -> None:
        seen.setdefault(progress.step.split()[0], set()).add(progress.state)

    assert pipeline.process(station, str(dev), batch, report=report).certified
    assert seen == {
        "identify": {"detected"},
        "pre-scan": {"registered"},
        "pass": {"sanitizing"},
        "verify": {"sanitizing"},
        "post-scan": {"verified"},
        "certify": {"post_scanned"},
    }


@needs_loop
def test_drive_pulled_during_the_post_scan_is_aborted_saying_so(
    station, make_loop, customer_drive
) -> None:
    """The reason names the step that was running, not the state (`verified`) it started in."""
    batch = open_batch(station, discovery=False)
    drive = customer_drive()
    dev = make_loop(image=drive.image)

    def report(progress: pipeline.StepProgress) -> None:
        if progress.step.startswith("post-scan") and drive.image.stat().st_size:
            pull(dev, drive.image)

    outcome = pipeline.process(station, str(dev), batch, report=report)
    assert (outcome.state, outcome.reason) == ("aborted", "device removed during post-scan")
    assert outcome.certificate_id is None


@needs_loop
def test_no_discovery_means_no_pre_scan(station, make_loop, customer_drive) -> None:
    batch = open_batch(station, discovery=False)
    dev = make_loop(image=customer_drive().image)
    outcome = pipeline.process(station, str(dev), batch)
    assert outcome.state == "certified", outcome.reason
    assert outcome.pre_scan is None


@needs_loop
def test_purge_on_a_loop_device_plans_destroy_and_issues_no_certificate(
    station, make_loop, customer_drive
) -> None:
    batch = open_batch(station, level="purge")
    drive = customer_drive()
    dev = make_loop(image=drive.image)
    before = drive.image.read_bytes()
    outcome = pipeline.process(station, str(dev), batch)
    assert outcome.state == "destruction_pending"
    assert outcome.reason.startswith("plan ends in destroy")
    assert outcome.certificate_id is None
    assert drive.image.read_bytes() == before  # nothing was written
    result = cli(station, "cert", "destroy", str(outcome.device_id), "--method", "shred",
                 "--date", "2026-11-01", "--witness", "Kalle Anka", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr


def _system_disk() -> str | None:
    disks = [n for n in system_device_names() if Path(f"/sys/block/{n}").exists()]
    return f"/dev/{sorted(disks)[0]}" if disks else None


def test_refused_target_leaves_only_a_refusal_event(station, batch) -> None:
    system = _system_disk()
    if system is None:
        pytest.skip("no system disk visible")
    with pytest.raises(GuardRefusal):
        pipeline.process(station, system, batch)
    with station.session() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 0
        events = list(session.scalars(select(AuditEvent.event_type)))
    assert events == ["guard.refused"]


@needs_loop
def test_closed_batch_takes_no_device(station, batch, make_loop) -> None:
    with station.session() as session:
        close_batch(session, find_batch(session, batch))
    with pytest.raises(BatchClosed):
        pipeline.process(station, str(make_loop()), batch)


@needs_loop
def test_process_cli_json(station, batch, make_loop, customer_drive) -> None:
    dev = make_loop(image=customer_drive().image)
    result = cli(station, "process", str(dev), "--batch", str(batch), "--yes", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["state"] == "certified"
    assert out["certificate_pdf"].endswith(".pdf")
    with station.session() as session:
        assert session.scalar(select(func.count()).select_from(Certificate)) == 1


@needs_loop
def test_process_cli_wrong_confirmation_writes_nothing(station, batch, make_loop) -> None:
    dev = make_loop()
    result = cli(station, "process", str(dev), "--batch", str(batch), input="zzzz\n")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("confirmation did not match; nothing was written")
    with station.session() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 0


def test_process_cli_system_disk_exits_3(station, batch) -> None:
    system = _system_disk()
    if system is None:
        pytest.skip("no system disk visible")
    result = cli(station, "process", system, "--batch", str(batch), "--yes")
    assert result.returncode == 3
    assert result.stderr.startswith(f"Error: refusing to write {system}: holds the running")


@needs_loop
def test_plugging_an_aborted_drive_back_starts_over(station, batch, make_loop, customer_drive):
    import threading

    drive = customer_drive()
    dev = make_loop(image=drive.image)
    cancel = threading.Event()
    cancel.set()  # stopped before the first step
    first = pipeline.process(station, str(dev), batch, cancel=cancel)
    assert first.state == "aborted"
    again = pipeline.process(station, str(dev), batch)
    assert again.device_id == first.device_id
    assert again.state == "certified", again.reason
