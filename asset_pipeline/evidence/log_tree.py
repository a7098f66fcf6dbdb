"""Each station's events as an RFC 9162 Merkle tree, kept as stored subtree hashes.

Leaf i of a station's tree is that station's i-th event; its data is the 32 bytes of the
event's chain hash (which covers every field of the event, see `audit`). The table
`log_node` holds the hash of every perfect, aligned subtree (`merkle` names them
`(level, index)`); appending leaf i adds the leaf and the subtrees it completes (one on
average, log n at most) after one lookup of their left siblings. Any root, inclusion proof
or consistency proof is then built from O(log n) stored hashes fetched in one query.

These stored hashes are a cache for speed: `audit_check.verify_trees` recomputes them from
the events and refuses a log whose stored tree differs.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from asset_pipeline.errors import StorageError
from asset_pipeline.evidence import merkle
from asset_pipeline.storage import AuditEvent, LatestHead, LogNode


def leaf_data(event_hash: str) -> bytes:
    """The leaf an event contributes: its chain hash as raw bytes."""
    try:
        return bytes.fromhex(event_hash)
    except ValueError:  # a damaged row still yields a leaf, which then fails to verify
        return event_hash.encode("utf-8", "replace")


def append_leaf(session: Session, event: AuditEvent, *, check_covered: bool = True) -> None:
    """Make `event` (hashed, in the caller's locked transaction) its station's next leaf.

    With `check_covered` (the transaction's first event of this station), refuse to grow a
    tree that its station's latest signed head does not cover exactly: events were added or
    removed behind the station's back, and signing on would vouch for them.

    Raises:
        StorageError: the stored tree is not the one the latest signed head covers.
    """
    station_id = event.station_id
    index = tree_size(session, station_id)
    if check_covered:
        latest = session.get(LatestHead, station_id)
        if latest is not None and latest.tree_size != index:
            raise StorageError(
                f"station {station_id}'s log has {index} events but its latest signed head "
                f"covers {latest.tree_size}: changed outside the station; run "
                "`asset-pipeline log verify`"
            )
    event.leaf_index = index
    h = merkle.leaf_hash(leaf_data(event.hash))
    new = [LogNode(station_id=station_id, level=0, idx=index, hash=h)]
    # The subtrees this leaf completes: one per trailing 1-bit of its index.
    wanted, level, i = [], 0, index
    while i & 1:
        wanted.append((level, i - 1))
        level, i = level + 1, i >> 1
    siblings = fetch_nodes(session, station_id, wanted)
    for level, left in wanted:
        h = merkle.node_hash(siblings[(level, left)], h)
        new.append(LogNode(station_id=station_id, level=level + 1, idx=left // 2, hash=h))
    session.add_all(new)


def tree_size(session: Session, station_id: str) -> int:
    """How many leaves the station's stored tree has."""
    last = session.scalar(
        select(func.max(AuditEvent.leaf_index)).where(AuditEvent.station_id == station_id)
    )
    return 0 if last is None else int(last) + 1


def fetch_nodes(
    session: Session, station_id: str, nodes: Iterable[merkle.Node]
) -> dict[merkle.Node, bytes]:
    """The stored hashes of `nodes`, in one query.

    Raises:
        KeyError: a node is not stored (the tree is smaller, or rows were removed).
    """
    keys = sorted(set(nodes))
    if not keys:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, []).append(idx)
    # One SELECT per level, joined by UNION ALL: each is a lookup of the full primary key
    # (station, level, idx), where an OR of the levels or a row-value IN makes SQLite scan
    # all of the station's nodes. Plain SQL text: building the expression through the ORM
    # cost more than the lookups. The numbers are our own ints, the station a bound value.
    sql = " UNION ALL ".join(
        f"SELECT level, idx, hash FROM log_node WHERE station_id = :station AND level = {lvl:d}"
        f" AND idx IN ({', '.join(str(int(i)) for i in ids)})"
        for lvl, ids in by_level.items()
    )
    rows = session.execute(text(sql), {"station": station_id})
    found = {(int(level), int(idx)): bytes(h) for level, idx, h in rows}
    missing = [k for k in keys if k not in found]
    if missing:
        raise KeyError(f"station {station_id}'s tree has no stored node {missing[0]}")
    return found


def ranges_hashes(session: Session, station_id: str, ranges: list[merkle.Range]) -> list[bytes]:
    """MTH of each leaf range, from the stored subtrees (one query for all)."""
    needed = [n for a, b in ranges for n in merkle.aligned_nodes(a, b)]
    nodes = fetch_nodes(session, station_id, needed)
    return [merkle.range_hash(a, b, nodes) for a, b in ranges]


def root(session: Session, station_id: str, size: int) -> bytes:
    """The root of the station's tree at `size` leaves."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return ranges_hashes(session, station_id, [(0, size)])[0]


def inclusion_proof(session: Session, station_id: str, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 from the stored subtrees."""
    return ranges_hashes(session, station_id, merkle.inclusion_ranges(index, size))


def consistency_proof(session: Session, station_id: str, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 from the stored subtrees (empty when first is 0)."""
    if first == 0:
        return []
    return ranges_hashes(session, station_id, merkle.consistency_ranges(first, second))
