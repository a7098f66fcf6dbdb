"""A station with an open batch for the intake tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from intake_lists import open_batch

from asset_pipeline.station.context import Station
from asset_pipeline.storage import Batch, batches


@pytest.fixture
def batch_id(station: Station) -> int:
    """An open batch under a Clear agreement with Åre kommun."""
    return open_batch(station)


BatchRun = Callable[..., object]


@pytest.fixture
def in_batch(station: Station, batch_id: int) -> BatchRun:
    """Call `fn(session, station, batch, *args)` in one transaction; returns its result."""

    def run(fn: Callable[..., object], *args: object, **kwargs: object) -> object:
        with station.session() as session:
            batch: Batch = batches.find_batch(session, batch_id)
            return fn(session, station, batch, *args, **kwargs)

    return run
