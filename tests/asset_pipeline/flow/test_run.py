"""How a device's run touches the database and the drive: one transaction per step, cheap checks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from asset_pipeline.drives import discovery
from asset_pipeline.flow import pipeline
from asset_pipeline.flow.states import State
from asset_pipeline.storage import AuditEvent, Device
from tests.asset_pipeline.flow.conftest import open_batch, pull
from tests.conftest import MiB, needs_loop


@contextmanager
def counted_commits(station) -> Iterator[list[int]]:
    engine = station.sessions().kw["bind"]
    commits: list[int] = []

    def on_commit(_connection) -> None:
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)


@needs_loop
def test_each_state_change_is_one_transaction(station, make_loop, customer_drive) -> None:
    batch = open_batch(station)
    dev = make_loop(image=customer_drive().image)
    with counted_commits(station) as commits:
        outcome = pipeline.process(station, str(dev), batch)
    assert outcome.state == "certified", outcome.reason
    with station.session() as session:
        changes = len(
            list(
                session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.device_id == outcome.device_id,
                        AuditEvent.event_type.like("device.%"),
                        AuditEvent.event_type != "device.closed",
                    )
                )
            )
        )
    # detected .. certified: 9 state changes. Beyond one transaction each: the run's start,
    # the wipe's outcome record (its `running` record goes with `sanitizing`) and the outcome
    # read back at the end. The run before this change made 27.
    assert changes == 9
    assert len(commits) <= changes + 3, len(commits)


@needs_loop
def test_the_drive_is_identified_once_a_step_not_on_every_pass(
    station, make_loop, customer_drive, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = open_batch(station)
    dev = make_loop(image=customer_drive().image)
    calls: list[str] = []
    real = discovery.identify

    def counting(path, **kwargs):
        calls.append(str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(discovery, "identify", counting)
    outcome = pipeline.process(station, str(dev), batch)
    assert outcome.state == "certified", outcome.reason
    # Before the run, the `identify` step, and the wipe's plan; between steps only the cheap
    # presence check (node, size, serial) runs.
    assert len(calls) == 3, calls


@needs_loop
def test_presence_is_the_node_its_media_and_its_serial(make_loop, tmp_path) -> None:
    image = tmp_path / "bay-3.img"
    image.touch()
    os.truncate(image, 8 * MiB)
    dev = make_loop(image=image)
    assert discovery.present_serial(str(dev)) == discovery.identify(dev).serial == "bay-3.img"
    assert discovery.present_serial(str(image)) == "bay-3.img"
    pull(dev, image)
    assert discovery.present_serial(str(dev)) is None
    assert discovery.present_serial(str(tmp_path / "no-such.img")) is None
    assert discovery.present_serial(str(tmp_path)) is None  # a directory is no drive


class _Crash(BaseException):
    """Stands for the station process dying: nothing in the pipeline handles it."""


@needs_loop
def test_a_run_resumed_after_its_wipe_knows_what_the_wipe_wrote(
    station, make_loop, customer_drive
) -> None:
    """The post-scan of a resumed run skips the keystream the crashed run wrote.

    The keys of random passes derive from the batch's key and the device, so the resumed run
    regenerates exactly the bytes on the drive without any key having been stored.
    """
    batch = open_batch(station, discovery=False)
    drive = customer_drive()
    dev = make_loop(image=drive.image)

    def crash_at_post_scan(progress: pipeline.StepProgress) -> None:
        if progress.step.startswith("post-scan"):
            raise _Crash

    with pytest.raises(_Crash):
        pipeline.process(station, str(dev), batch, report=crash_at_post_scan)
    with station.session() as session:
        device = session.scalars(select(Device).where(Device.batch_id == batch)).one()
        assert (device.state, device.claimed_by) == (State.VERIFIED.value, "")
        device_id = device.id
    run = pipeline.DeviceRun(station, device_id, None, None, None)
    pattern = run._stored_pattern()
    assert pattern is not None
    assert pattern.name == "random"
    offset = 17 * MiB + 4096
    on_disk = subprocess.run(
        ["dd", f"if={dev}", "bs=4096", f"skip={offset // 4096}", "count=1", "status=none"],
        capture_output=True,
        check=True,
    ).stdout
    assert pattern.filler(4096).expected(offset, 4096) == on_disk
    outcome = pipeline.resume_device(station, device_id)
    assert outcome.state == "certified", outcome.reason
    assert sum(outcome.post_scan["findings"].values()) == 0
