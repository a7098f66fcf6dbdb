"""Signed tree heads: a station's statement "my log had N events with root R at time T".

A head is a small JSON document (canonical, like certificates) signed with the station's
Ed25519 key over every field but `signature`:
`{"schema": "asset-pipeline/tree-head", "schema_version": 1, "station_id", "tree_size",
"root_hash", "timestamp", "key_fingerprint", "signature"}`. Checkpoint files are exactly this
document; certificates and reports carry one under `log.head`. Whoever holds a head can later
demand a consistency proof that the stored log extends it, so a cut or rewrite after it shows
even to someone who trusts nothing in the database but the registered keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from asset_pipeline.errors import EvidenceError, InvalidDocument, KeyFileError
from asset_pipeline.evidence import log_tree
from asset_pipeline.evidence.audit import UNSIGNED, iso_utc, lock_chain
from asset_pipeline.evidence.canonical import canonical_bytes, parse_strict
from asset_pipeline.station.atomic import write_atomic
from asset_pipeline.station.keys import verify_signature
from asset_pipeline.storage import LatestHead, TreeHead, utcnow
from asset_pipeline.storage.stations import key_by_fingerprint, public_key_of, valid_at

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from asset_pipeline.station.context import Station
    from asset_pipeline.storage import AuditEvent

HEAD_SCHEMA = "asset-pipeline/tree-head"
_FIELDS = {"schema", "schema_version", "station_id", "tree_size", "root_hash", "timestamp",
           "key_fingerprint", "signature"}  # fmt: skip
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A parsed signed tree head and where it came from."""

    document: dict[str, Any]
    source: str  # "checkpoint cp.json", "certificate SAN-…", "stored head 12"

    @property
    def station_id(self) -> str:
        """The station whose tree it describes."""
        return str(self.document["station_id"])

    @property
    def size(self) -> int:
        """The tree size it signs."""
        return int(self.document["tree_size"])

    @property
    def root(self) -> bytes:
        """The root hash it signs."""
        return bytes.fromhex(self.document["root_hash"])

    @property
    def key_fingerprint(self) -> str:
        """The key it names as its signer."""
        return str(self.document["key_fingerprint"])

    @property
    def identity(self) -> tuple[str, int, str, str]:
        """What makes two copies of one head the same head."""
        d = self.document
        return (d["station_id"], d["tree_size"], d["root_hash"], d["signature"])


def sign_head(session: Session, station: Station, *, keep: bool = True) -> SignedHead:
    """Sign the station's current tree head, store it, and return it.

    Call inside the transaction whose events it must cover (the chain lock is held then, so
    the head is exactly the tree as of the last event appended). Every head becomes the
    station's latest head; with `keep` it is also kept in `tree_head` (checkpoints and
    documents), without it only the latest is (the head signed at each commit).
    """
    station_id = station.config.station_id
    lock_chain(session)  # the tree as of the last event appended, never mid-append
    session.flush()
    size = log_tree.tree_size(session, station_id)
    unsigned = {
        "schema": HEAD_SCHEMA,
        "schema_version": 1,
        "station_id": station_id,
        "tree_size": size,
        "root_hash": log_tree.root(session, station_id, size).hex(),
        "timestamp": iso_utc(utcnow()),
        "key_fingerprint": station.key.fingerprint,
    }
    document = {**unsigned, "signature": station.key.sign(canonical_bytes(unsigned)).hex()}
    text = canonical_bytes(document).decode("ascii")
    if keep:
        session.add(
            TreeHead(
                station_id=station_id,
                tree_size=size,
                root_hash=unsigned["root_hash"],
                document=text,
            )
        )
    latest = session.get(LatestHead, station_id)
    if latest is None:
        session.add(LatestHead(station_id=station_id, tree_size=size, document=text))
    else:
        latest.tree_size, latest.document = size, text
    session.info.get(UNSIGNED, set()).discard(station_id)
    return SignedHead(document, f"head of station {station_id} at size {size}")


# session.info keys: the station a session works for (set by `Station.session`), and the
# stations whose events it appended since their last signed head.
STATION = "asset_pipeline.station"


@event.listens_for(Session, "before_commit")
def _sign_at_commit(session: Session) -> None:
    """Cover this commit's events with a signed head, so no stored event lacks one."""
    station = session.info.get(STATION)
    pending = session.info.get(UNSIGNED)
    if station is None or not pending or station.config.station_id not in pending:
        return
    sign_head(session, station, keep=False)


def write_checkpoint(station: Station, head: SignedHead, *, name: str) -> Path:
    """Write `head` to `<data-dir>/checkpoints/<name>-<size>.json` and return the path.

    Raises:
        EvidenceError: the file cannot be written.
    """
    directory = station.data_dir / "checkpoints"
    path = directory / f"{name}-{head.size}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(path, head_bytes(head) + b"\n")
    except OSError as e:
        raise EvidenceError(f"cannot write checkpoint {path}: {e.strerror}") from e
    return path


def head_bytes(head: SignedHead) -> bytes:
    """The head as the canonical JSON a checkpoint file holds."""
    return canonical_bytes(head.document)


def parse_head(value: Any, *, source: str) -> SignedHead:
    """Check a head's shape (not its signature).

    Raises:
        InvalidDocument: not a well-formed signed tree head.
    """
    if not isinstance(value, dict) or set(value) != _FIELDS or value["schema"] != HEAD_SCHEMA:
        raise InvalidDocument(f"{source} holds no well-formed signed tree head")
    size = value["tree_size"]
    if value["schema_version"] != 1 or not isinstance(size, int) or isinstance(size, bool):
        raise InvalidDocument(f"{source}: tree head has an unknown version or a bad size")
    if size < 0 or not _HEX64.match(str(value["root_hash"])):
        raise InvalidDocument(f"{source}: tree head has a bad size or root hash")
    if not _HEX128.match(str(value["signature"])) or not isinstance(value["station_id"], str):
        raise InvalidDocument(f"{source}: tree head has a malformed signature or station")
    if _timestamp(value) is None:
        raise InvalidDocument(f"{source}: tree head has no valid timestamp")
    return SignedHead(value, source)


def signed_by(head: SignedHead, public_key: Ed25519PublicKey) -> bool:
    """True when `public_key` made the head's signature."""
    unsigned = {k: v for k, v in head.document.items() if k != "signature"}
    signature = bytes.fromhex(head.document["signature"])
    return verify_signature(public_key, signature, canonical_bytes(unsigned))


def registry_problem(session: Session, head: SignedHead) -> str | None:
    """Why the head is not validly signed by a registered key of its station, or None."""
    row = key_by_fingerprint(session, head.key_fingerprint)
    where = f"{head.source} (station {head.station_id}, size {head.size})"
    if row is None:
        return f"{where} names key {head.key_fingerprint[:19]}…, which is not registered"
    if row.station_id != head.station_id:
        return f"{where} names station {row.station_id}'s key, not its own station's"
    try:
        key = public_key_of(row)
    except KeyFileError as e:
        return f"{where}: {e}"
    if not signed_by(head, key):
        return f"{where} is not signed by its station's key (forged or altered)"
    moment = _timestamp(head.document)
    if moment is not None and not valid_at(row, moment):
        return f"{where} is dated after its key was retired"
    return None


def stored_heads(session: Session) -> tuple[list[SignedHead], list[str]]:
    """Every stored head (checkpoints, documents', latest), and rows that are not heads."""
    from sqlalchemy import select

    rows = [(f"stored head {i}", text) for i, text in session.execute(
        select(TreeHead.id, TreeHead.document))]  # fmt: skip
    rows += [(f"latest head of station {s}", text) for s, text in session.execute(
        select(LatestHead.station_id, LatestHead.document))]  # fmt: skip
    heads, problems = [], []
    for source, text in rows:
        try:
            heads.append(parse_head(parse_strict(text.encode()), source=source))
        except (InvalidDocument, ValueError, RecursionError):
            problems.append(f"{source} is not a well-formed signed tree head")
    return heads, problems


def latest_sizes(session: Session) -> dict[str, int]:
    """The size each station's latest signed head claims (checked against it by verify)."""
    from sqlalchemy import select

    return dict(session.execute(select(LatestHead.station_id, LatestHead.tree_size)).tuples())


def head_of_document(document: dict[str, Any], *, source: str) -> SignedHead | None:
    """The head a certificate or report carries, or None for one issued before heads."""
    block = document.get("log")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise InvalidDocument(f"{source} has a malformed log block")
    return parse_head(block.get("head"), source=source)


def inclusion_block(session: Session, head: SignedHead, event: AuditEvent) -> dict[str, Any]:
    """`log` of a document: the head, and the proof that `event` is a leaf under it."""
    assert event.leaf_index is not None
    path = log_tree.inclusion_proof(session, event.station_id, event.leaf_index, head.size)
    return {
        "head": head.document,
        "leaf_index": event.leaf_index,
        "inclusion_path": [p.hex() for p in path],
    }


def read_anchor(path: Path) -> tuple[SignedHead | None, dict[str, Any]]:
    """The head an anchor file holds, and the document (checkpoint, certificate, report).

    A certificate issued before signed heads gives None and its document (its closing-event
    seal still anchors the chain).

    Raises:
        InvalidDocument: unreadable, or neither a head nor a signed document.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidDocument(f"cannot read anchor {path}: {e.strerror}") from e
    source = f"anchor {path.name}"
    if data.startswith(b"%PDF"):
        from asset_pipeline.evidence.pdf import read_pdf

        found = [b for n, b in read_pdf(data).attachments.items() if n.endswith(".json")]
        if len(found) != 1:
            raise InvalidDocument(f"{source}: PDF carries {len(found)} JSON documents, not 1")
        data = found[0]
    try:
        value = parse_strict(data, what=source)
    except (ValueError, RecursionError) as e:
        raise InvalidDocument(f"{source} is not JSON: {str(e)[:100]}") from e
    if not isinstance(value, dict):
        raise InvalidDocument(f"{source} is not a JSON object")
    if value.get("schema") == HEAD_SCHEMA:
        return parse_head(value, source=source), value
    doc_id = value.get("id", "?")
    return head_of_document(value, source=f"{source} ({doc_id})"), value


def _timestamp(value: dict[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value.get("timestamp")))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def seal(session: Session, station: Station, closing_event: AuditEvent) -> dict[str, Any]:
    """A document's seal to the log: its closing event, a signed head, the inclusion proof.

    Not circular: the caller appends every event that issues the document first (these
    name the document by id, never by its hash), then seals, then signs the document with
    the seal inside. The head thus covers the document's own issuing events.
    """
    head = sign_head(session, station)
    return {
        "closing_event": {"seq": closing_event.seq, "hash": closing_event.hash},
        "log": inclusion_block(session, head, closing_event),
    }
