"""The Station: configuration, data directory and database, shared by every command."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from asset_pipeline.station.config import (
    CONFIG_NAME,
    DB_NAME,
    DB_URL_ENV,
    StationConfig,
    default_data_dir,
    ensure_data_dir,
    load_config,
    new_config,
    sqlite_url,
    write_config,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from asset_pipeline.station.certificate import SigningCertificate
    from asset_pipeline.station.keys import StationKey

# The database, the ORM and the key's cryptography load when first used, not when the CLI
# starts: `drives` or `--help` need none of them.

CERTIFICATES_DIR = "certificates"
REPORTS_DIR = "reports"


@dataclass
class Station:
    """Lazily opened station state; commands ask it for config and database sessions."""

    data_dir: Path = field(default_factory=default_data_dir)
    db_url: str | None = None
    operator_override: str | None = None
    _config: StationConfig | None = None
    _sessions: sessionmaker[Session] | None = None
    _key: StationKey | None = None
    _certificate: SigningCertificate | None = None
    created: bool = False  # True when this run initialized a new station
    # How long a transaction waits for a database server that dropped the connection (a
    # restart, a failover) before the command fails; the first connection never waits.
    reconnect_seconds: float = 30.0
    _relabel: bool = False

    @property
    def database_url(self) -> str:
        """`--db-url`, else `$ASSET_PIPELINE_DB_URL`, else `<data-dir>/station.db`."""
        return self.db_url or os.environ.get(DB_URL_ENV) or sqlite_url(self.data_dir / DB_NAME)

    @property
    def config(self) -> StationConfig:
        """The station's config; a station used before `init` is initialized with defaults."""
        if self._config is None:
            ensure_data_dir(self.data_dir)
            self._config = load_config(self.data_dir)
            if self._config is None:
                self._config = self.initialize(new_config())
        return self._config

    @property
    def operator(self) -> str:
        """Who runs the station now: `--operator`, else the config's default operator."""
        return self.operator_override or self.config.operator

    @property
    def is_initialized(self) -> bool:
        """True when the data directory already holds a config (nothing is created to ask)."""
        return (self.data_dir / CONFIG_NAME).exists()

    @property
    def key(self) -> StationKey:
        """The station's Ed25519 signing key (created with the station; see `keys`)."""
        if self._key is None:
            from asset_pipeline.station.keys import ensure_station_key

            self.config  # noqa: B018 - a station used before `init` is initialized first
            key = ensure_station_key(self.data_dir)
            if self.config.certificate:  # refuse at start a CA certificate for another key
                from asset_pipeline.station.certificate import station_certificate

                self._certificate = station_certificate(self.data_dir, key, self.config)
            self._key = key
        return self._key

    @property
    def certificate(self) -> SigningCertificate:
        """The station key's X.509 certificate, which PDF signatures carry (see `certificate`)."""
        if self._certificate is None:
            from asset_pipeline.station.certificate import station_certificate

            self._certificate = station_certificate(self.data_dir, self.key, self.config)
        return self._certificate

    @property
    def certificates_dir(self) -> Path:
        """Where signed certificates (JSON + PDF) are written."""
        return self.data_dir / CERTIFICATES_DIR

    @property
    def reports_dir(self) -> Path:
        """Where signed batch reports are written."""
        return self.data_dir / REPORTS_DIR

    def initialize(self, config: StationConfig) -> StationConfig:
        """Write `config`, create the signing key, and bring the database to the schema head."""
        ensure_data_dir(self.data_dir)
        write_config(self.data_dir, config)
        self._config = config
        self._key = None
        self._certificate = None
        _ = self.key
        self.created = True
        self._relabel = True  # a new config for this key (`init --force`): the registry follows
        self.sessions()
        return config

    def reconfigure(self, config: StationConfig) -> None:
        """Use `config` (already written by the caller) from now on; same id, same key."""
        if self._config is not None and config.station_id != self._config.station_id:
            raise ValueError("a station's id never changes in place")
        self._config = config

    def sessions(self) -> sessionmaker[Session]:
        """The session factory (connects and migrates on first use).

        The config is read first, so a station used before `init` gets initialized and a
        broken config is reported before anything touches the database.
        """
        if self._config is None:
            _ = self.config  # may initialize the station, which opens the database
        if self._sessions is None:
            self._sessions = self._open()
        return self._sessions

    def _open(self) -> sessionmaker[Session]:
        """Open (and migrate) the database and register the key, riding out dropped connections.

        A fleet's server may terminate a backend while a station starts (a worker opening the
        database mid-batch): a connection that drops is tried again for `reconnect_seconds`; a
        server that cannot be reached at all is reported at once.
        """
        from asset_pipeline.errors import ConnectionLost, StorageError
        from asset_pipeline.storage import open_database
        from asset_pipeline.storage.transactions import dropped_connection

        deadline, pause = time.monotonic() + self.reconnect_seconds, 0.2
        while True:
            sessions = None
            try:
                sessions = open_database(
                    self.database_url, application_name=f"asset-pipeline {self.config.station_id}"
                )
                self._register(sessions)
            except (StorageError, ConnectionLost) as e:
                if sessions is not None:
                    _dispose(sessions)
                if dropped_connection(e) is None or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(2 * pause, 2.0)
            except BaseException:
                if sessions is not None:
                    _dispose(sessions)
                raise
            else:
                return sessions

    def _register(self, sessions: sessionmaker[Session]) -> None:
        """Put this station's public key in the fleet's registry (once, on first contact)."""
        from sqlalchemy.exc import IntegrityError, OperationalError

        from asset_pipeline.storage.stations import register_station
        from asset_pipeline.storage.transactions import transaction

        config = self.config
        # Processes of one station starting at once race to register its key: the loser sees
        # the unique fingerprint taken (IntegrityError), or on SQLite a write lock it cannot
        # wait for from a read snapshot ("database is locked"). Registering is idempotent, so
        # it is simply done again.
        for attempt in range(1, 6):
            try:
                with transaction(sessions) as session:
                    register_station(
                        session,
                        station_id=config.station_id,
                        public_key=self.key.public_key,
                        organization=config.organization,
                        site=config.site,
                        relabel=self._relabel,
                    )
            except (IntegrityError, OperationalError):
                if attempt == 5:
                    raise
                time.sleep(0.05 * attempt)
            else:
                return

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error.

        Raises:
            StorageError: the database server stayed unreachable for `reconnect_seconds`.
            ConnectionLost: the connection dropped inside the block (see `transactions`).
        """
        from asset_pipeline.evidence.heads import STATION  # its listener signs at commit
        from asset_pipeline.storage.transactions import transaction

        with transaction(self.sessions(), reconnect_seconds=self.reconnect_seconds) as session:
            session.info[STATION] = self
            yield session

    @contextmanager
    def reader_session(self) -> Iterator[Session | None]:
        """A session on the station database if it already exists, else None; creates nothing.

        For commands that only read evidence (`cert verify`, `log verify`, `log export`): an
        auditor may run them with a copy of a station's database (`--db-url`) and no station
        of their own, and a mistyped URL must not become a new, empty and "clean" database.
        """
        from asset_pipeline.storage import open_existing_database

        sessions = open_existing_database(self.database_url)
        if sessions is None:
            yield None
            return
        from asset_pipeline.storage.transactions import transaction

        try:
            with transaction(sessions) as session:
                yield session
        finally:
            _dispose(sessions)

    def close(self) -> None:
        """Dispose of the engine's connections."""
        if self._sessions is not None:
            _dispose(self._sessions)
            self._sessions = None


def _dispose(sessions: sessionmaker[Session]) -> None:
    bind = sessions.kw.get("bind")
    if bind is not None:
        bind.dispose()
