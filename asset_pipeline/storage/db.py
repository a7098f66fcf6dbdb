"""Opening the station database and keeping its schema at the Alembic head.

Alembic is imported only when a migration has to run: importing it loads every SQL dialect's
DDL module, which took 4.5 s of a 9 s command on the lab's emulated CPU. A database already at
the packaged head (every command after the first) is recognised from the revision files' text.
"""

from __future__ import annotations

import ast
import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from asset_pipeline.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


# Seconds a PostgreSQL connection attempt may take (unless the URL sets `connect_timeout`): a
# server that accepts TCP but never answers must not hang a station for ever.
PG_CONNECT_TIMEOUT = 10


def create_station_engine(url: str, *, application_name: str = "") -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    A server database (PostgreSQL) gets `pool_pre_ping`, so a connection the server dropped
    while it sat in the pool (a restart, `pg_terminate_backend`, a failover) is replaced when
    it is next taken, a connect timeout, and `application_name` (which station this is, in
    `pg_stat_activity`).

    Raises:
        StorageError: the URL is malformed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
        options: dict[str, object] = {}
        if parsed.get_backend_name() == "postgresql":
            connect_args: dict[str, object] = {}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
            if application_name and "application_name" not in parsed.query:
                connect_args["application_name"] = application_name[:63]
            options = {"pool_pre_ping": True, "connect_args": connect_args}
        engine = create_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as e:
        raise StorageError(f"cannot use database URL {_redact(url)}: {e}") from e
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# Seconds an SQLite connection waits for another process's lock (the busy timeout), and keeps
# trying to turn a fresh file to WAL while other processes do the same; the pause between tries.
BUSY_WAIT = 30
WAL_SWITCH_PAUSE = 0.01


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the watch workers read while one writes; the busy timeout makes concurrent
    # writers (several stations' processes on one file) wait instead of failing at once.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA busy_timeout={BUSY_WAIT * 1000}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Set WAL, trying again while another process is switching the same fresh file.

    Switching a rollback-journal file to WAL reads its header and then writes it; when two
    processes do that at once, SQLite answers one of them "database is locked" at once,
    without waiting out the busy timeout (it would deadlock otherwise). Six processes
    opening one fresh file together failed 24 times in 1,200 that way.
    """
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as e:
            busy = getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(WAL_SWITCH_PAUSE)
        else:
            return


def alembic_config(url: str) -> Config:
    """An Alembic config that points at the packaged migrations and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this package (asks Alembic)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def packaged_head() -> str | None:
    """The head revision read from the revision files' text, or None when that is unclear.

    Reads each file's module-level `revision` and `down_revision`; a file without a string
    `revision`, or not exactly one head, gives None and the caller asks Alembic instead.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        names = _assignments(path)
        revision, down = names.get("revision"), names.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _assignments(path: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database.

    Raises:
        StorageError: the database holds more than one revision (branches Alembic must sort).
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        versions = list(rows)
    if len(versions) > 1:
        raise StorageError(f"database has several schema revisions: {', '.join(versions)}")
    return versions[0] if versions else None


def upgrade(engine: Engine) -> None:
    """Bring the schema to the head revision (no-op when already there).

    Safe when several station processes open a fresh database at once: the migration runs
    under a lock (a lock file beside an SQLite database, an advisory lock on PostgreSQL) and
    the revision is read again once the lock is held. All revisions run in one transaction, so
    a failing one leaves the database at the revision it had.

    Raises:
        StorageError: the database cannot be reached or a migration fails.
    """
    try:
        head = packaged_head() or head_revision()
        if current_revision(engine) == head:
            return
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        sqlite = engine.dialect.name == "sqlite"
        with _migration_lock(engine), engine.connect() as connection:
            if sqlite:
                _sqlite_foreign_keys(connection, on=False)
            try:
                with connection.begin():
                    if sqlite:  # pysqlite commits each DDL statement on its own otherwise
                        connection.exec_driver_sql("BEGIN")
                    if engine.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_KEY}
                        )
                    if MigrationContext.configure(connection).get_current_revision() == head:
                        return
                    config = alembic_config(engine.url.render_as_string(hide_password=False))
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    if sqlite:
                        _check_foreign_keys(connection)
            finally:
                if sqlite:
                    _sqlite_foreign_keys(connection, on=True)
    except SQLAlchemyError as e:
        raise StorageError(
            f"cannot open database {_redact(str(engine.url))}: {_first_line(e)}"
        ) from e


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Turn SQLite's foreign-key enforcement on or off, outside any transaction.

    A migration in Alembic's batch mode copies a table, drops the old one and renames the
    copy; while enforced, dropping `device` fails as soon as a certificate points at one of
    its rows. SQLite's own procedure for such changes turns enforcement off, makes the change
    in a transaction and checks the keys before committing (`_check_foreign_keys`).
    """
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StorageError(
            f"migration left {len(broken)} row(s) whose foreign keys point nowhere "
            f"(tables {', '.join(tables)}); nothing was changed"
        )


# Arbitrary constant naming the migration's advisory lock on PostgreSQL ("ap-migra").
_PG_KEY = 0x61702D6D69677261


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate.lock")
    try:
        handle = lock_path.open("a")
    except OSError:  # a read-only directory: nothing could migrate there anyway
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_database(url: str, *, application_name: str = "") -> sessionmaker[Session]:
    """Connect, migrate to head and return a session factory.

    Raises:
        StorageError: see `create_station_engine` and `upgrade`.
    """
    engine = create_station_engine(url, application_name=application_name)
    try:
        upgrade(engine)
    except StorageError:
        engine.dispose()
        raise
    return sessionmaker(engine, expire_on_commit=False)


def open_existing_database(url: str) -> sessionmaker[Session] | None:
    """A session factory for a station database that already exists, or None; creates nothing.

    For readers such as `cert verify`, who may be handed a copy of a station's database (or a
    URL naming none): a missing SQLite file or an empty database is "no database at hand".

    Raises:
        StorageError: see `create_station_engine` and `upgrade`.
    """
    engine = create_station_engine(url)  # parses the URL; connects only when asked
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or not Path(database).is_file():
            engine.dispose()
            return None
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as e:
        engine.dispose()
        raise StorageError(f"cannot open database {_redact(url)}: {_first_line(e)}") from e
    if revision is None:
        engine.dispose()
        return None
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
