"""The processing log: one append-only, hash-chained table that every station process writes.

Each station's events are also the leaves of its own RFC 9162 Merkle tree (`log_tree`), whose
heads the station signs (`heads`); the chain names where a row broke, the signed heads make
a cut or rewritten log detectable by anyone holding an earlier head.

Each event's `hash` is the SHA-256 of the canonical JSON of its fields (seq, time, station,
operator, batch, device, type, payload) together with `prev_hash`, the previous event's hash
(`GENESIS` for the first). Changing, removing, inserting or reordering a row therefore breaks
the chain at that row; `audit_verify.verify_chain` finds where.

Appends are serialized across processes so the chain never forks: on SQLite the transaction
takes the database's write lock (`BEGIN IMMEDIATE`) before reading the head; on PostgreSQL a
transaction-scoped advisory lock does the same. `seq` is UNIQUE as the last line of defence.
The lock is held until the caller's session commits, so the caller's state change and its
event land together or not at all.

Payloads pass `privacy.check_payload` (counts, ids, methods; no personal-data values).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from asset_pipeline.errors import StorageError
from asset_pipeline.evidence import log_tree
from asset_pipeline.evidence.canonical import canonical_bytes, sha256_hex
from asset_pipeline.evidence.privacy import check_payload
from asset_pipeline.storage import AuditEvent, Device, utcnow

GENESIS = "0" * 64
UNSIGNED = "asset_pipeline.unsigned_stations"  # session.info: stations appended to, unsigned
# Arbitrary constant naming the chain's advisory lock on PostgreSQL ("ap-audit" in ASCII).
PG_LOCK_KEY = 0x61702D6175646974
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "station_id",
    "operator",
    "batch_id",
    "device_id",
    "event_type",
    "payload",
    "prev_hash",
    "hash",
)


def append_event(
    session: Session,
    *,
    station_id: str,
    operator: str,
    event_type: str,
    payload: Mapping[str, Any] | None = None,
    batch_id: int | None = None,
    device_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction and return it (flushed).

    Args:
        session: the caller's session; commit it soon, since the chain stays locked until then.
        station_id: the station writing the event.
        operator: who runs the station.
        event_type: dotted lowercase name, e.g. "device.registered", "wipe.completed".
        payload: counts, ids, methods and short technical strings; a string that looks like a
            personal-data value is withheld (see `privacy`).
        batch_id: the batch the event belongs to, if any.
        device_id: the device the event belongs to, if any.

    Raises:
        ValueError: `event_type` is not a dotted lowercase name.
        PersonalDataRefused: the payload's structure breaks the privacy rule.
        StorageError: the chain could not be extended (a concurrent writer on a database
            without a chain lock).
    """
    if not _EVENT_TYPE.match(event_type) or len(event_type) > 60:
        raise ValueError(f"event type {event_type!r} is not a dotted lowercase name")
    clean = check_payload(payload or {}, where="audit payload", on_match="withhold")
    lock_chain(session)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head[0] + 1, head[1]) if head is not None else (1, GENESIS)
    event = AuditEvent(
        seq=seq,
        occurred_at=utcnow(),
        station_id=station_id,
        operator=operator,
        batch_id=batch_id,
        device_id=device_id,
        event_type=event_type,
        payload=clean,
        prev_hash=prev_hash,
    )
    event.hash = event_digest(event)
    # The station's Merkle tree, in the same transaction; the station's session signs a head
    # covering it at commit (see `heads`).
    pending = session.info.setdefault(UNSIGNED, set())
    log_tree.append_leaf(session, event, check_covered=station_id not in pending)
    pending.add(station_id)
    session.add(event)
    try:
        session.flush()
    except IntegrityError as e:
        raise StorageError(f"audit event {seq} was taken by a concurrent writer") from e
    return event


def event_digest(event: AuditEvent, *, seq: int | None = None) -> str:
    """The hash `event` must carry; `seq` overrides its seq (used to classify breaks)."""
    return sha256_hex(canonical_bytes(_hashed_fields(event, event.seq if seq is None else seq)))


def iso_utc(moment: datetime) -> str:
    """A UTC timestamp as ISO 8601 with microseconds and `Z`, the form that is hashed."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as a plain mapping (export, `--json`), with the hash it carries."""
    record = _hashed_fields(event, event.seq)
    record["hash"] = event.hash
    return record


def of_batch(batch_id: int) -> ColumnElement[bool]:
    """The condition for a batch's events: tagged with the batch or with one of its devices."""
    devices = select(Device.id).where(Device.batch_id == batch_id)
    return or_(AuditEvent.batch_id == batch_id, AuditEvent.device_id.in_(devices))


def batch_events(session: Session, batch_id: int) -> list[AuditEvent]:
    """A batch's events, in chain order (see `of_batch`)."""
    query = select(AuditEvent).where(of_batch(batch_id)).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def event_at(session: Session, seq: int) -> AuditEvent | None:
    """The event stored under `seq`, if any."""
    return session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))


def _hashed_fields(event: AuditEvent, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "occurred_at": iso_utc(event.occurred_at),
        "station_id": event.station_id,
        "operator": event.operator,
        "batch_id": event.batch_id,
        "device_id": event.device_id,
        "event_type": event.event_type,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
    }


def lock_chain(session: Session) -> None:
    """Take the log's write lock for the rest of the caller's transaction (see module doc)."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # pysqlite opens a transaction only at the first write, so "not in a transaction"
        # means no snapshot is held yet and BEGIN IMMEDIATE can take the write lock (waiting
        # up to the busy timeout). Already in one means a write happened, so the lock is held.
        dbapi = connection.connection.driver_connection
        if not getattr(dbapi, "in_transaction", True):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        # Released at commit or rollback; READ COMMITTED then sees the latest head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
