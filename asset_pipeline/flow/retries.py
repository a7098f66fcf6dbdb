"""Carrying a device's run across a database connection that drops (fleet on PostgreSQL).

`Station.session()` waits for an unreachable server at the start of a transaction, and turns a
connection that drops inside one into `ConnectionLost` after rolling back. What to do then is
the caller's: a read, or a write whose effect can be checked, is simply done again; a pipeline
step is repeated from the device's stored state (see `DeviceRun`). A COMMIT whose answer was
lost may have taken effect, so a write is repeated only after `settled` says it did not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from asset_pipeline.errors import ConnectionLost

log = logging.getLogger(__name__)

# Lost connections one device (or one transaction) survives before it gives up: a server
# that cuts it this often is not one to certify against.
MAX_LOST = 3
T = TypeVar("T")


def retrying(
    work: Callable[[], T],
    *,
    settled: Callable[[], T | None] | None = None,
    attempts: int = MAX_LOST,
) -> T:
    """Run `work` (one transaction), again after each lost connection, `attempts` in all.

    Args:
        work: the transaction; it must be safe to run again after a rollback.
        settled: asked after a loss, in a new transaction: the result when the lost COMMIT
            took effect after all (then `work` is not run again), else None.
        attempts: how many times `work` may run.

    Raises:
        ConnectionLost: the last attempt lost its connection too.
        StorageError: the server stayed unreachable (see `Station.reconnect_seconds`).
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except ConnectionLost as e:
            if attempt == attempts:
                raise
            log.warning("database connection lost (%s); trying again", e)
            if settled is not None and (done := settled()) is not None:
                return done
    raise AssertionError("unreachable")  # pragma: no cover
