"""Several station processes opening one fresh database at once, and PostgreSQL as the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from asset_pipeline.storage import create_station_engine, open_database, sqlite_url
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
