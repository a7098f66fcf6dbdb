"""A station's database connection under faults: unreachable, silent, cut, restarted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from asset_pipeline.errors import ConnectionLost, StorageError
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Customer, batches
from asset_pipeline.storage import db as storage_db
from tests.fleet.pgserver import PostgresServer, free_port


def _cli(home: Path, url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(home), "ASSET_PIPELINE_DB_URL": url}
    return subprocess.run([sys.executable, "-m", "asset_pipeline", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=timeout)  # fmt: skip


def test_a_station_started_against_a_closed_port_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://ap@127.0.0.1:{free_port()}/fleet"
    result = _cli(tmp_path / "st", url, "batch", "list")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot open database {url}: ")
    assert "Connection refused" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_server_that_never_answers_fails_within_the_connect_timeout(tmp_path: Path) -> None:
    # Accepts TCP (the kernel's backlog) but never speaks: before the connect timeout, the
    # station hung here for ever.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql+psycopg://ap@127.0.0.1:{silent.getsockname()[1]}/fleet"
        started = time.monotonic()
        result = _cli(tmp_path / "st", url, "batch", "list",
                      timeout=storage_db.PG_CONNECT_TIMEOUT + 20)  # fmt: skip
        took = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot open database {url}: ")
    assert result.stderr.count("\n") == 1
    assert took < storage_db.PG_CONNECT_TIMEOUT + 10


@pytest.fixture
def pg_station(pg_server: PostgresServer, tmp_path: Path) -> Station:
    st = Station(data_dir=tmp_path / "st", db_url=pg_server.url, reconnect_seconds=20)
    st.initialize(new_config("Refurb AB", f"tekniker-{os.urandom(3).hex()}"))
    yield st
    st.close()


def _name(st: Station) -> str:
    return f"asset-pipeline {st.config.station_id}"


def test_a_connection_cut_while_idle_is_replaced_before_use(
    pg_server: PostgresServer, pg_station: Station
) -> None:
    with pg_station.session() as session:
        session.execute(text("SELECT 1"))
    assert pg_server.terminate(_name(pg_station)) >= 1  # the pooled, idle connection
    with pg_station.session() as session:  # failed with OperationalError before pre-ping
        assert session.execute(text("SELECT 2")).scalar() == 2


def test_a_connection_cut_mid_transaction_rolls_back_and_says_so(
    pg_server: PostgresServer, pg_station: Station
) -> None:
    name = f"Kund {os.urandom(3).hex()}"
    with (  # noqa: PT012 - the cut must happen inside the transaction
        pytest.raises(ConnectionLost, match="database connection lost"),
        pg_station.session() as session,
    ):
        batches.add_customer(session, name)
        assert pg_server.terminate(_name(pg_station)) == 1
        session.execute(text("SELECT 1"))
    with pg_station.session() as session:  # reconnected; the cut transaction left nothing
        count = session.scalar(select(func.count()).where(Customer.name == name))
        assert count == 0


def test_a_server_restart_is_waited_for_at_the_next_transaction(
    pg_server: PostgresServer, pg_station: Station
) -> None:
    with pg_station.session() as session:
        session.execute(text("SELECT 1"))
    pg_server.stop()
    restart = threading.Timer(3.0, pg_server.start)
    restart.start()
    try:
        started = time.monotonic()
        with pg_station.session() as session:
            assert session.execute(text("SELECT 3")).scalar() == 3
        assert time.monotonic() - started >= 2.5
    finally:
        restart.join()


def test_a_server_gone_longer_than_the_window_fails_in_one_line(
    pg_server: PostgresServer, pg_station: Station
) -> None:
    with pg_station.session() as session:
        session.execute(text("SELECT 1"))
    pg_station.reconnect_seconds = 1.5
    pg_server.stop()
    try:
        with (
            pytest.raises(StorageError, match="^cannot reach database postgresql") as caught,
            pg_station.session(),
        ):
            pass
        assert "\n" not in str(caught.value)
    finally:
        pg_server.start()


def test_a_certificate_whose_transaction_is_cut_leaves_no_file(
    pg_server: PostgresServer, pg_station: Station
) -> None:
    from evidence_fixtures import PRE_FINDINGS, drive, register_device, scan_report, wipe_result

    from asset_pipeline.evidence import issuing
    from asset_pipeline.storage import Certificate, devices, operators

    with pg_station.session() as session:
        operators.add_operator(session, pg_station.operator, title="Tekniker", contact="x@y.se")
        customer = batches.add_customer(session, f"Kund {os.urandom(3).hex()}")
        agreement = batches.add_agreement(session, customer=customer,
                                          reference=f"DPA-{os.urandom(3).hex()}",
                                          required_level="clear", discovery_instructed=True,
                                          retention_years=7)  # fmt: skip
        batch = batches.open_batch(session, agreement)
        device_id = register_device(session, batch, drive(os.urandom(4).hex())).id
    written = []
    with (  # noqa: PT012 - the cut comes after the files exist
        pytest.raises(ConnectionLost),
        pg_station.session() as session,
    ):
        issued = issuing.issue_sanitization_certificate(
            session, pg_station, devices.find_device(session, device_id),
            wipe_result=wipe_result(), pre_scan=scan_report(PRE_FINDINGS),
            post_scan=scan_report(),
        )  # fmt: skip
        written = [issued.json_path, issued.pdf_path]
        assert all(p.exists() for p in written)
        pg_server.terminate(_name(pg_station))
    assert written
    assert not any(p.exists() for p in written)  # taken back with the transaction
    with pg_station.session() as session:
        query = select(func.count()).where(Certificate.device_id == device_id)
        assert session.scalar(query) == 0
