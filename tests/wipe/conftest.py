"""Fixtures for the wipe library tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wipe_helpers import mount_tmpfs, unmount  # noqa: E402


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of this test's own, so a larger image on it runs out of space for real.

    Request it before `make_loop`, so the loop devices are detached before it is unmounted.
    """
    where = tmp_path / "small"
    mount_tmpfs(where, "8M")
    try:
        yield where
    finally:
        unmount(where)
