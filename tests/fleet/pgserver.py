"""A PostgreSQL server of the fleet tests' own: initdb + pg_ctl in a temp directory.

Unlike the session-wide `postgres_url` fixture, the fleet tests stop, restart and terminate
connections of their server, so they get one to themselves.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl live, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One throwaway server; `url` is a database named `fleet` on it."""

    def __init__(self, bindir: Path, *, fsync: bool = False) -> None:
        self.bindir = bindir
        self.fsync = fsync  # off for tests (speed); on for benchmarks (a real server's cost)
        self.workdir = Path(tempfile.mkdtemp(prefix="ap-fleet-pg-"))
        self.data = self.workdir / "data"
        self.port = free_port()
        self._run_as: dict[str, Any] = {}
        if os.geteuid() == 0:  # the server refuses to run as root
            user = pwd.getpwnam("postgres" if _user_exists("postgres") else "nobody")
            os.chown(self.workdir, user.pw_uid, user.pw_gid)
            self._run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self._env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(self.workdir)}
        self._pg("initdb", "-D", self.data, "-U", "ap", "--auth=trust", "-E", "UTF8")
        self.start()
        self.admin("CREATE DATABASE fleet", database="postgres")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL stations use."""
        return f"postgresql+psycopg://ap@127.0.0.1:{self.port}/fleet"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200"
        )
        self._pg("pg_ctl", "-D", self.data, "-o", options, "-l", self.workdir / "log", "-w",
                 "start")  # fmt: skip

    def stop(self) -> None:
        """Stop at once (connections are cut, as in a crash or failover)."""
        self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def admin(self, sql: str, *, database: str = "fleet") -> list[tuple]:
        """Run one statement as the superuser in autocommit; its rows (if any)."""
        engine = create_engine(
            f"postgresql+psycopg://ap@127.0.0.1:{self.port}/{database}",
            isolation_level="AUTOCOMMIT",
        )
        try:
            with engine.connect() as connection:
                result = connection.execute(text(sql))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def terminate(self, application_name_like: str) -> int:
        """`pg_terminate_backend` every connection whose application_name matches; how many."""
        rows = self.admin(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE application_name LIKE '{application_name_like}' AND pid <> pg_backend_pid()"
        )
        return int(rows[0][0])

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        time.sleep(0.2)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _pg(self, tool: str, *args: Any, check: bool = True) -> None:
        subprocess.run([self.bindir / tool, *map(str, args)], check=check, capture_output=True,
                       env=self._env, cwd=self.workdir, **self._run_as)  # fmt: skip


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
