"""A station that dies in state `verified` post-scans the wiped drive on resume, and passes it.

The resumed run regenerates the AES-CTR keystream the wipe wrote (no key stored), and the
keystream itself holds nothing the detectors take for a value: before issue 14 part 5, a raw
scan of such a drive without the expected pattern reported e-mail addresses in it, and a resume
that lost the pattern failed correctly wiped drives ("post-scan found 20 personal-data items").
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from asset_pipeline.flow import pipeline
from asset_pipeline.flow.device_scan import scan_target
from asset_pipeline.flow.states import State
from asset_pipeline.storage import Device
from tests.asset_pipeline.flow.conftest import open_batch
from tests.conftest import MiB, needs_loop


class _Crash(BaseException):
    """Stands for the station process dying: nothing in the pipeline handles it."""


def _crash_at_post_scan(progress: pipeline.StepProgress) -> None:
    if progress.step.startswith("post-scan"):
        raise _Crash


@needs_loop
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_resume_in_verified_passes_a_correctly_wiped_drive(
    station, make_loop, customer_drive, attempt: int
) -> None:
    batch = open_batch(station, discovery=False)
    dev = make_loop(image=customer_drive(size=160 * MiB).image)
    with pytest.raises(_Crash):
        pipeline.process(station, str(dev), batch, report=_crash_at_post_scan)
    with station.session() as session:
        device = session.scalars(select(Device).where(Device.batch_id == batch)).one()
        assert device.state == State.VERIFIED.value
        device_id = device.id
    # The keystream on the drive, scanned with no expected pattern at all: nothing.
    blind = scan_target(dev, os.urandom(32), ("raw",), processes=False)
    assert blind.bytes_scanned >= 150 * MiB
    assert blind.total_findings == 0, blind.findings
    outcome = pipeline.resume_device(station, device_id)
    assert outcome.state == "certified", outcome.reason
    assert sum(outcome.post_scan["findings"].values()) == 0
