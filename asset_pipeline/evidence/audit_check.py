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

`verify_trees` checks the signed-head layer: each station's Merkle tree is recomputed from its
events and must extend every signed head (checkpoints, certificates, reports, and anchor files
the verifier holds), which catches what the chain cannot: a cut tail, a re-chained rewrite.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.errors import InvalidDocument
from asset_pipeline.evidence import log_tree, merkle
from asset_pipeline.evidence.audit import GENESIS, event_digest
from asset_pipeline.evidence.heads import (
    SignedHead,
    head_of_document,
    registry_problem,
    stored_heads,
)
from asset_pipeline.storage import AuditEvent, Certificate, LogNode


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


@dataclass(frozen=True, slots=True)
class TreeReport:
    """What `verify_trees` found: each station's tree size and root, heads checked, problem."""

    sizes: dict[str, int]
    roots: dict[str, str]
    heads_checked: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when every tree matches its events and extends every head."""
        return self.problem is None


def document_heads(session: Session) -> tuple[list[SignedHead], list[str]]:
    """The heads stored certificates and reports carry, and documents whose head is malformed."""
    found, problems = [], []
    for cert_id, document in session.execute(select(Certificate.cert_id, Certificate.document)):
        try:
            head = head_of_document(json.loads(document), source=f"certificate {cert_id}")
        except (InvalidDocument, ValueError):
            problems.append(f"certificate {cert_id} carries a malformed tree head")
            continue
        if head is not None:
            found.append(head)
    return found, problems


def verify_trees(
    session: Session, *, anchors: Iterable[SignedHead] = (), stored: bool = True
) -> TreeReport:
    """Recompute every station's tree from its events and check it against every head.

    A station's tree must hold its events in log order (leaf i is its i-th event, hashed
    from the event's content, not from the stored hash), the stored subtree hashes must be
    the recomputed ones, and for every head (the given anchors and, with `stored`, the heads
    stored in the database and carried by stored documents) the head must be validly signed
    by a registered key of its station and the tree must extend it: a consistency proof
    (RFC 9162 §2.1.4) from the head's size to the tree's size verifies. O(n) in events.
    """
    heads, problems = list(anchors), []
    if stored:
        for found, bad in (stored_heads(session), document_heads(session)):
            heads += found
            problems += bad
    trees = _recomputed_trees(session)
    sizes, roots = {}, {}
    for station_id, tree in trees.items():
        if isinstance(tree, str):
            problems.append(tree)
            continue
        sizes[station_id] = len(tree[0])
        roots[station_id] = _root(tree).hex()
        problems += _stored_nodes_problems(session, station_id, tree)[:1]
    seen: set[tuple[str, int, str, str]] = set()
    covered: dict[str, int] = {}
    for head in heads:
        if head.identity in seen:
            continue
        seen.add(head.identity)
        problem = registry_problem(session, head) or _extends(trees, head)
        if problem is not None:
            problems.append(problem)
        covered[head.station_id] = max(covered.get(head.station_id, 0), head.size)
    # Each station signs a head at every commit that appends its events, so events beyond
    # its largest head were added by someone without its key. (A station that never signed
    # a head, one migrated from before heads, is covered by its hash chain alone.)
    for station_id, size in sizes.items():
        if station_id in covered and size > covered[station_id]:
            problems.append(
                f"station {station_id}'s events from leaf {covered[station_id]} on are covered "
                f"by no signed head (added without the station's key)"
            )
    return TreeReport(sizes, roots, len(seen), problems[0] if problems else None)


def _recomputed_trees(session: Session) -> dict[str, list[list[bytes]] | str]:
    events: dict[str, list[AuditEvent]] = {}
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        events.setdefault(event.station_id, []).append(event)
    trees: dict[str, list[list[bytes]] | str] = {}
    for station_id, rows in events.items():
        wrong = next((e for i, e in enumerate(rows) if e.leaf_index != i), None)
        if wrong is not None:
            i = rows.index(wrong)
            trees[station_id] = (
                f"station {station_id}'s log has event {wrong.seq} at leaf {wrong.leaf_index}, "
                f"expected leaf {i} (an event before it was removed or moved)"
            )
            continue
        leaves = [merkle.leaf_hash(log_tree.leaf_data(event_digest(e))) for e in rows]
        trees[station_id] = merkle.levels(leaves)
    return trees


def _root(tree: list[list[bytes]]) -> bytes:
    size = len(tree[0])
    return merkle.range_hash(0, size, merkle.LevelNodes(tree)) if size else merkle.EMPTY_ROOT


def _stored_nodes_problems(session: Session, station_id: str, tree: list[list[bytes]]) -> list[str]:
    stored = session.execute(
        select(LogNode.level, LogNode.idx, LogNode.hash).where(LogNode.station_id == station_id)
    )
    nodes = merkle.LevelNodes(tree)
    count = 0
    for level, idx, h in stored:
        count += 1
        if nodes.get((int(level), int(idx))) != bytes(h):
            return [f"station {station_id}'s stored tree differs at node ({level}, {idx})"]
    if count != len(nodes):
        made = len(nodes)
        return [f"station {station_id}'s stored tree has {count} nodes, its events make {made}"]
    return []


def _extends(trees: dict[str, list[list[bytes]] | str], head: SignedHead) -> str | None:
    tree = trees.get(head.station_id)
    if isinstance(tree, str):
        return None  # already reported
    size = len(tree[0]) if tree is not None else 0
    where = f"{head.source} (station {head.station_id}, size {head.size})"
    if head.size > size:
        return f"station {head.station_id}'s log has {size} events, fewer than {where}: cut"
    nodes = merkle.LevelNodes(tree) if tree is not None else merkle.LevelNodes([[]])
    ranges = merkle.consistency_ranges(head.size, size) if head.size else []
    proof = [merkle.range_hash(a, b, nodes) for a, b in ranges]
    current = _root(tree) if tree is not None else merkle.EMPTY_ROOT
    if not merkle.verify_consistency(head.size, size, head.root, current, proof):
        return f"station {head.station_id}'s log is not an extension of {where}: rewritten"
    return None
