"""Storage: Alembic creates the schema the ORM expects, on SQLite with WAL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from asset_pipeline.errors import StorageError
from asset_pipeline.storage import Base, create_station_engine, open_database, sqlite_url, upgrade
from asset_pipeline.storage.db import current_revision, head_revision, packaged_head

TABLES = {
    "customer",
    "agreement",
    "batch",
    "device",
    "audit_event",
    "scan_summary",
    "sanitization",
    "certificate",
}


def test_upgrade_head_on_empty_database_creates_the_schema(tmp_path: Path) -> None:
    engine = create_station_engine(sqlite_url(tmp_path / "s.db"))
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_models_match_the_migrations(tmp_path: Path) -> None:
    engine = create_station_engine(sqlite_url(tmp_path / "s.db"))
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    sessions = open_database(sqlite_url(tmp_path / "s.db"))
    with sessions() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.db")
    open_database(url)
    open_database(url)


def test_packaged_head_read_from_the_files_is_alembics_head() -> None:
    assert packaged_head() == head_revision()


def test_opening_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    """Alembic's import costs seconds on a slow station CPU; only a migration needs it."""
    url = sqlite_url(tmp_path / "s.db")
    code = (
        "import sys; from asset_pipeline.storage import open_database; "
        f"open_database({url!r}); print('alembic' in sys.modules)"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert (first, second) == ("True\n", "False\n")


def test_several_schema_revisions_are_an_error(tmp_path: Path) -> None:
    engine = create_station_engine(sqlite_url(tmp_path / "s.db"))
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version VALUES ('9999_other')"))
    with pytest.raises(StorageError, match="several schema revisions: "):
        upgrade(engine)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchdb://x", "cannot use database URL nosuchdb://x"),
        ("not a url", "cannot use database URL not a url"),
    ],
)
def test_unusable_url_is_a_storage_error(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_database(url)


def test_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open database postgresql"):
        open_database("postgresql+psycopg://nobody:secret@127.0.0.1:9/none?connect_timeout=2")


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(StorageError) as e:
        open_database("postgresql+psycopg://nobody:secret@127.0.0.1:9/none?connect_timeout=2")
    assert "secret" not in str(e.value)
