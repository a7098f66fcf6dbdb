"""One transaction on the station database, across a server that may drop the connection.

A fleet's stations share one PostgreSQL server, which may restart, fail over or terminate a
backend (`pg_terminate_backend`) while a station is mid-device. The rules:

- A connection is taken *before* the caller's work starts (a transaction boundary). If the
  server cannot be reached there, nothing has been done yet, so the attempt is repeated with
  a growing pause for up to `reconnect_seconds`, then the one-line `StorageError` names the
  server and the reason. (The pool's pre-ping has already replaced a connection that the
  server closed while it was idle.)
- If the connection drops while the caller's statements or the COMMIT run, the transaction is
  rolled back and `ConnectionLost` is raised: the caller's work is not repeated here, because
  only the caller knows whether repeating it is safe (the pipeline re-reads the device's state
  and repeats the step; a COMMIT whose answer was lost may have taken effect, so the stored
  state, not the caller's memory, says what happened).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from asset_pipeline.errors import ConnectionLost, StorageError

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.2  # seconds before the first reconnect attempt, doubled up to MAX_PAUSE
MAX_PAUSE = 2.0


@contextmanager
def transaction(
    sessions: sessionmaker[Session], *, reconnect_seconds: float = 0.0
) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on any error.

    Raises:
        StorageError: no connection could be had within `reconnect_seconds`.
        ConnectionLost: the connection dropped inside the block or during COMMIT.
    """
    session = _connected(sessions, reconnect_seconds)
    try:
        yield session
        session.commit()
    except BaseException as e:
        _rollback(session)
        lost = dropped_connection(e)
        if lost is not None and not isinstance(e, ConnectionLost):
            raise ConnectionLost(f"database connection lost: {_first_line(lost)}") from e
        raise
    finally:
        session.close()


def dropped_connection(error: BaseException) -> DBAPIError | None:
    """The driver error in `error`'s cause chain that invalidated its connection, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return current
        current = current.__cause__ or current.__context__
    return None


def _connected(sessions: sessionmaker[Session], reconnect_seconds: float) -> Session:
    deadline = time.monotonic() + reconnect_seconds
    pause = FIRST_PAUSE
    while True:
        session = sessions()
        try:
            session.connection()  # checkout (with pre-ping) and BEGIN
        except DBAPIError as e:
            session.close()
            if time.monotonic() + pause > deadline:
                url = session.get_bind().url.render_as_string(hide_password=True)
                raise StorageError(f"cannot reach database {url}: {_first_line(e)}") from e
            log.warning("database unreachable (%s); retrying in %.1f s", _first_line(e), pause)
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
            continue
        return session


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except DBAPIError as e:  # the connection is gone; the server rolled back already
        log.debug("rollback on a dropped connection: %s", _first_line(e))


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__
