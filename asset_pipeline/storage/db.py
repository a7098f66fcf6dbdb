"""Opening the station database and keeping its schema at the Alembic head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from asset_pipeline.errors import StorageError

MIGRATIONS = Path(__file__).with_name("migrations")


def create_station_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    Raises:
        StorageError: the URL is malformed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, future=True)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as e:
        raise StorageError(f"cannot use database URL {_redact(url)}: {e}") from e
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the watch workers read while one writes; the busy timeout makes concurrent
    # writers (several stations' processes on one file) wait instead of failing at once.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(url: str) -> Config:
    """An Alembic config that points at the packaged migrations and `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this package."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the head revision (no-op when already there).

    Raises:
        StorageError: the database cannot be reached or a migration fails.
    """
    try:
        if current_revision(engine) == head_revision():
            return
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as e:
        raise StorageError(
            f"cannot open database {_redact(str(engine.url))}: {_first_line(e)}"
        ) from e


def open_database(url: str) -> sessionmaker[Session]:
    """Connect, migrate to head and return a session factory.

    Raises:
        StorageError: see `create_station_engine` and `upgrade`.
    """
    engine = create_station_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error)
    return text.splitlines()[0] if text else type(error).__name__
