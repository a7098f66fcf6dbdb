"""Walking the processing log's hash chain and naming the first broken link.

A break is reported at the sequence number where the chain stops being the one that was
written, with its kind:

- `changed`: an event's content no longer matches its hash, or an event was replaced by a
  forged one (the next event was chained to something else);
- `deleted`: a sequence number is missing, or later events were renumbered to close the gap,
  or an event sealed by a certificate is gone (the log was cut short);
- `inserted`: an event that was never chained sits between two that were;
- `reordered`: an event sits at a sequence number other than the one it was written with.

Deleting the newest events leaves no trace in the chain itself; certificates carry the hash of
the event that closed their device, and those seals are checked too (`anchors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.evidence.audit import GENESIS, event_digest
from asset_pipeline.storage import AuditEvent, Certificate


@dataclass(frozen=True, slots=True)
class Anchor:
    """An event hash recorded outside the log (in a certificate), keyed by its seq."""

    seq: int
    hash: str
    source: str  # e.g. "certificate SAN-20261127-0a1b2c3d4e"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the chain is not the one that was written."""

    seq: int
    kind: str  # changed | deleted | inserted | reordered
    detail: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify_chain` found."""

    events: int
    last_seq: int
    head_hash: str
    anchors_checked: int
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        """True when no link is broken."""
        return self.broken is None


def certificate_anchors(session: Session) -> list[Anchor]:
    """The seals that stored certificates and reports carry (their closing events)."""
    anchors = []
    for cert_id, document in session.execute(select(Certificate.cert_id, Certificate.document)):
        seal = json.loads(document).get("closing_event") or {}
        if isinstance(seal.get("seq"), int) and isinstance(seal.get("hash"), str):
            anchors.append(Anchor(seal["seq"], seal["hash"], f"certificate {cert_id}"))
    return anchors


def verify_chain(
    session: Session, *, upto: int | None = None, anchors: Iterable[Anchor] = ()
) -> ChainReport:
    """Walk the chain from seq 1 (to `upto` if given) and report the first broken link."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if upto is not None:
        query = query.where(AuditEvent.seq <= upto)
    rows = list(session.scalars(query))
    anchors = list(anchors)
    found = [b for b in (_walk(rows), _check_anchors(rows, anchors, upto)) if b is not None]
    return ChainReport(
        events=len(rows),
        last_seq=rows[-1].seq if rows else 0,
        head_hash=rows[-1].hash if rows else GENESIS,
        anchors_checked=len(anchors),
        broken=min(found, key=lambda b: b.seq, default=None),
    )


def _walk(rows: list[AuditEvent]) -> ChainBreak | None:
    by_hash = {row.hash: row for row in rows}
    prev, expected = GENESIS, 1
    for i, row in enumerate(rows):
        n = row.seq
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if n != expected:
            missing = f"{expected}" if n == expected + 1 else f"{expected} to {n - 1}"
            return ChainBreak(expected, "deleted", f"event {missing} missing from the log")
        if event_digest(row) != row.hash:
            return _misplaced(row, nxt, len(rows))
        if row.prev_hash != prev:
            linked = by_hash.get(row.prev_hash)
            if linked is not None and linked.seq > n:
                return ChainBreak(n, "reordered", f"event {n} was chained after event {linked.seq}")
            return ChainBreak(
                n - 1,
                "changed",
                f"event {n - 1} is not the event that event {n} was chained to (replaced)",
            )
        prev, expected = row.hash, n + 1
    return None


def _misplaced(row: AuditEvent, nxt: AuditEvent | None, count: int) -> ChainBreak:
    """Classify an event whose stored hash does not cover its current seq."""
    n = row.seq
    origin = next(
        (s for s in range(1, count + 2) if s != n and event_digest(row, seq=s) == row.hash), None
    )
    next_was_here = nxt is not None and event_digest(nxt, seq=n) == nxt.hash
    if origin is None:
        if next_was_here:
            return ChainBreak(n, "inserted", f"event {n} was never chained; the next was {n}")
        return ChainBreak(n, "changed", f"event {n} does not match its hash (content changed)")
    if origin == n + 1 and next_was_here:
        return ChainBreak(n, "reordered", f"events {n} and {n + 1} were swapped")
    if origin == n + 1:
        return ChainBreak(
            n, "deleted", f"event {n} missing; the event now at {n} was written as {origin}"
        )
    if origin == n - 1:
        return ChainBreak(
            n - 1,
            "inserted",
            f"event {n - 1} was inserted; the event now at {n} was written as {origin}",
        )
    return ChainBreak(n, "reordered", f"event {n} was written as event {origin}")


def _check_anchors(
    rows: list[AuditEvent], anchors: list[Anchor], upto: int | None
) -> ChainBreak | None:
    by_seq = {row.seq: row for row in rows}
    breaks: list[ChainBreak] = []
    for anchor in anchors:
        if upto is not None and anchor.seq > upto:
            continue
        row = by_seq.get(anchor.seq)
        if row is None:
            breaks.append(
                ChainBreak(
                    anchor.seq,
                    "deleted",
                    f"event {anchor.seq} sealed by {anchor.source} is missing from the log",
                )
            )
        elif row.hash != anchor.hash:
            breaks.append(
                ChainBreak(
                    anchor.seq,
                    "changed",
                    f"event {anchor.seq} differs from the one sealed by {anchor.source}",
                )
            )
    return min(breaks, key=lambda b: b.seq) if breaks else None
