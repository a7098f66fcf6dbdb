"""Several station processes opening one fresh database at once, and PostgreSQL as the store."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import inspect

from asset_pipeline.storage import create_station_engine, db, open_database, sqlite_url
from asset_pipeline.storage.db import current_revision, head_revision

OPEN = "from asset_pipeline.storage import open_database; import sys; open_database(sys.argv[1])"


def test_processes_migrating_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    # Without the migration lock, 5 rounds of 6 processes failed 15 times here ("table
    # alembic_version already exists"); every process must now open the database.
    for attempt in range(5):
        url = sqlite_url(tmp_path / f"fresh-{attempt}.db")
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN, url], stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        errors = [p.communicate()[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, errors
        assert current_revision(create_station_engine(url)) == head_revision()


def _connect_at(path: Path, start: float, results: multiprocessing.Queue) -> None:
    while time.time() < start:
        pass
    try:
        connection = sqlite3.connect(path)
        db._sqlite_pragmas(connection, None)  # what every station engine runs on connect
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        connection.close()
    except sqlite3.Error as e:
        results.put(repr(e))
    else:
        results.put("")


def test_processes_connecting_to_a_fresh_sqlite_file_at_the_same_instant(tmp_path: Path) -> None:
    # CI failed once with "database is locked": two processes switching one fresh file to WAL
    # at once; SQLite fails one of them without waiting. Started on the same instant, 6
    # processes failed 24 times in 200 rounds before the switch was tried again.
    fork = multiprocessing.get_context("fork")
    errors: list[str] = []
    for attempt in range(40):
        path = tmp_path / f"instant-{attempt}.db"
        results = fork.Queue()
        start = time.time() + 0.2
        procs = [fork.Process(target=_connect_at, args=(path, start, results)) for _ in range(6)]
        for proc in procs:
            proc.start()
        errors += [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join()
    assert [e for e in errors if e] == []


def test_postgresql_gets_the_schema_and_serves_the_cli(postgres_url: str, tmp_path: Path) -> None:
    open_database(postgres_url)
    engine = create_station_engine(postgres_url)
    assert current_revision(engine) == head_revision()
    assert {"customer", "agreement", "batch", "device", "audit_event"} <= set(
        inspect(engine).get_table_names()
    )
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(tmp_path / "st"),
           "ASSET_PIPELINE_DB_URL": postgres_url}  # fmt: skip
    name = f"PG kund {os.getpid()}"
    add = subprocess.run(
        [sys.executable, "-m", "asset_pipeline", "customer", "add", name, "--json"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "asset_pipeline", "customer", "list", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert name in [c["name"] for c in json.loads(listed.stdout)]
