"""Sanitization records: the state of every wipe is stored before it starts and when it ends.

A row is written as `running` before the first byte is touched, so a crash leaves a visible
unfinished wipe; the final outcome and the full result JSON replace it at the end. A rerun
simply adds a new row: nothing in an old one blocks it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from asset_pipeline.storage import Sanitization, utcnow


def start_record(
    session: Session,
    *,
    level: str,
    method: str,
    identity: dict[str, Any] | None = None,
    device_id: int | None = None,
) -> int:
    """Store a `running` sanitization and return its id.

    A registered device is named by `device_id`; an ad-hoc wipe keeps the target's `identity`.
    """
    row = Sanitization(
        device_id=device_id,
        level=level,
        method=method,
        outcome="running",
        result={} if identity is None else {"identity": identity},
    )
    session.add(row)
    session.flush()
    return row.id


def finish_record(
    session: Session, record_id: int, *, outcome: str, result: dict[str, Any]
) -> None:
    """Store the final outcome and result of a sanitization."""
    row = session.get(Sanitization, record_id)
    if row is None:  # pragma: no cover - the row was written by start_record in this process
        return
    kept = {"identity": row.result["identity"]} if "identity" in row.result else {}
    row.outcome = outcome
    row.result = {**kept, **result}
    row.ended_at = utcnow()
