"""Stations, batches and synthetic customer drives for the pipeline's end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asset_pipeline.demo.drive import DemoDrive, build_demo_drive
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import batches, operators
from tests.conftest import MiB


@pytest.fixture
def station(tmp_path: Path) -> Station:
    """An initialized station in a temp directory (its own SQLite file and key)."""
    st = Station(data_dir=tmp_path / "station")
    st.initialize(new_config("Refurb AB", "tekniker-1", org_number="556677-8899", site="Umeå"))
    with st.session() as session:  # certificates name a registered operator
        operators.add_operator(session, "tekniker-1", title="Tekniker", contact="+46 90 12 34 56")
    yield st
    st.close()


def open_batch(station: Station, *, level: str = "clear", discovery: bool = True) -> int:
    """A customer, an agreement with `level`/`discovery`, and an open batch; its id."""
    with station.session() as session:
        name = f"Kund {level} {discovery} {os.urandom(3).hex()}"
        customer = batches.add_customer(session, name, "212000-0142")
        agreement = batches.add_agreement(
            session,
            customer=customer,
            reference=f"DPA-{os.urandom(4).hex()}",
            required_level=level,
            discovery_instructed=discovery,
            retention_years=7,
        )
        return batches.open_batch(session, agreement, order_number="PO-1").id


@pytest.fixture
def batch(station: Station) -> int:
    """An open batch under a Clear agreement that instructs discovery."""
    return open_batch(station)


@pytest.fixture
def customer_drive(tmp_path: Path) -> Callable[..., DemoDrive]:
    """Build synthetic customer drives (each with its own seed and file name)."""
    made = 0

    def build(size: int = 64 * MiB) -> DemoDrive:
        nonlocal made
        made += 1
        return build_demo_drive(tmp_path / f"kund-{made}.img", seed=100 + made, size=size)

    return build


def cli(station: Station, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a new process on `station`."""
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    env.pop("ASSET_PIPELINE_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "asset_pipeline", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def verify_certificate(station: Station, path: str) -> None:
    """`cert verify` through the CLI must pass."""
    result = cli(station, "cert", "verify", path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr


def log_verifies(station: Station) -> bool:
    """`log verify` through the CLI."""
    result = cli(station, "log", "verify", "--json")
    return result.returncode == 0 and json.loads(result.stdout)["status"] == "ok"


def pull(device: Path, image: Path) -> None:
    """Pull a loop device's drive out, as far as a loop device allows.

    `losetup -d` on an open loop device only schedules the detach, and detaching it here
    would free its name for someone else's device before the fixture's own cleanup. Emptying
    the backing file and re-reading the capacity leaves the device attached with no media,
    which is what a pulled card or a powered-off dock bay looks like to the station.
    """
    os.truncate(image, 0)
    subprocess.run(["losetup", "-c", str(device)], check=True)
