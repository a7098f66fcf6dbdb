"""Fixtures of the fleet tests: a PostgreSQL server of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.pgserver import PostgresServer, pg_bindir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A server the fleet tests may stop, restart and cut connections of."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer(bindir)
    try:
        yield server
    finally:
        server.close()
