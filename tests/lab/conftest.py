"""The lab fixture: ONE QEMU guest per test session with the standard drive bay.

Lab tests are marked `lab`; they skip with the reason when QEMU or a kernel is missing, or when
ASSET_PIPELINE_LAB=off (for quick local runs; CI never sets it). Each lab test's wall time and
the guest's boot and udev times are printed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labkit import Lab, skip_reason, start_lab  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
OFF_ENV = "ASSET_PIPELINE_LAB"
_wall: dict[str, float] = {}
_session: dict[str, float] = {}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The booted guest: drives in `lab.dev` (id -> /dev node), images in `lab.images`."""
    if os.environ.get(OFF_ENV, "").lower() in ("off", "0", "no"):
        pytest.skip(f"lab tests switched off by {OFF_ENV}")
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("lab")
    session = start_lab(workdir, project=PROJECT, python=sys.executable)
    _session.update(session.timings)
    try:
        yield session
    finally:
        start = time.monotonic()
        session.guest.shutdown()
        _session["shutdown"] = time.monotonic() - start
        shutil.rmtree(workdir / "images", ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Time each lab test from setup to teardown (its share of the session's wall time)."""
    start = time.monotonic()
    yield
    if item.get_closest_marker("lab"):
        _wall[item.nodeid] = time.monotonic() - start


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the lab's wall times: guest start-up parts, then every lab test."""
    if not _wall:
        return
    write = terminalreporter.write_line
    terminalreporter.section("lab wall times")
    if _session:
        write("guest: " + ", ".join(f"{k} {v:.1f} s" for k, v in _session.items()))
    for nodeid, seconds in _wall.items():
        write(f"{seconds:7.1f} s  {nodeid}")
    write(f"{sum(_wall.values()):7.1f} s  all lab tests (the first includes the guest start-up)")
