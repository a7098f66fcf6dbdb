"""Verifying a certificate or report file: the JSON alone, or the PDF with its attachment.

Checks, each reported as ok / failed / skipped:
- `signature`: the Ed25519 signature over the canonical unsigned document, by the given key;
- `pdf` (PDF only): the QR code decodes to this document's id and the SHA-256 of the attached
  JSON, and the page's text (extracted from the PDF) shows every line the signed JSON's
  layout prints: id, hash, serial, customer, outcome, method, people...;
- `pdf_signature` (PDF only): one PDF signature that covers the entire file, intact, by the
  key that signed the attached JSON. A document issued before PDF signatures (no
  `canonicalization` field in its signed part) has none: skipped, with a warning;
- `audit`: a document with a signed tree head (`log`): the head is signed by the issuing key
  and the closing event's inclusion proof verifies under it (offline); with the station
  database, the event is stored intact as that leaf and the stored tree extends the head, in
  O(log n). A document from before signed heads: its sealed event is in the log with the
  same hash and the hash chain up to it verifies (O(n));
- `stored` (with a database): the database holds exactly this document under its id.

The document verifies only when no check failed. Unreadable input (bad JSON, duplicate keys,
a newer schema, a truncated PDF, a file over `MAX_FILE_BYTES`) raises `InvalidDocument`
instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from asset_pipeline.errors import InvalidDocument, VerificationFailed
from asset_pipeline.evidence import log_tree, merkle
from asset_pipeline.evidence.audit import event_at, event_digest
from asset_pipeline.evidence.audit_check import verify_chain
from asset_pipeline.evidence.canonical import MAX_DOCUMENT_BYTES
from asset_pipeline.evidence.heads import SignedHead, head_of_document, signed_by
from asset_pipeline.evidence.layout import layout_of
from asset_pipeline.evidence.pdf import qr_reference, read_pdf, require_complete
from asset_pipeline.evidence.pdf_signature import PdfSignatureFacts, read_pdf_signature
from asset_pipeline.evidence.signing import (
    JCS_SINCE,
    SignedDocument,
    check_signature,
    read_document,
)
from asset_pipeline.storage import Certificate

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from sqlalchemy.orm import Session

# A PDF carries the JSON, the page and its fonts: a certificate is ~60 KB, a batch report of
# 1,000 devices a few MB. Larger input is refused before it is read.
MAX_FILE_BYTES = MAX_DOCUMENT_BYTES


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step's verdict."""

    name: str
    status: str  # ok | failed | skipped
    detail: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything `verify_file` found about one file."""

    file: str
    format: str  # json | pdf
    document_id: str
    kind: str
    sha256: str
    key_fingerprint: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return all(c.status != "failed" for c in self.checks)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a reader should know although it does not fail the document."""
        skipped = (c for c in self.checks if c.status == "skipped")
        return tuple(c.detail for c in skipped if c.name == "pdf_signature")

    @property
    def failure(self) -> str | None:
        """The first failed check's detail, if any."""
        return next((c.detail for c in self.checks if c.status == "failed"), None)


def verify_file(
    path: Path,
    public_key: Ed25519PublicKey,
    *,
    session: Session | None = None,
    station_id: str | None = None,
) -> CheckReport:
    """Verify a signed JSON or PDF file (see `verify_bytes`).

    Raises:
        InvalidDocument: the file cannot be read as a signed document.
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # never more than the bound into memory
    except OSError as e:
        raise InvalidDocument(f"cannot read {path}: {e.strerror}") from e
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDocument(f"{path} is larger than {MAX_FILE_BYTES} bytes; not a certificate")
    return verify_bytes(data, public_key, session=session, station_id=station_id, name=str(path))


def verify_bytes(
    data: bytes,
    public_key: Ed25519PublicKey,
    *,
    session: Session | None = None,
    station_id: str | None = None,
    name: str = "-",
) -> CheckReport:
    """Verify signed JSON or PDF bytes.

    Args:
        data: the file's bytes; a PDF is recognized by its header.
        public_key: the issuing station's public key (trusted out of band).
        session: a session on the station database, if one is at hand.
        station_id: this station's id, to tell "not in our log" from "another station's".
        name: what to call the input in the report.

    Raises:
        InvalidDocument: the bytes cannot be read as a signed document.
    """
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDocument(f"{name} is larger than {MAX_FILE_BYTES} bytes; not a certificate")
    checks: list[Check] = []
    if data.startswith(b"%PDF"):
        fmt = "pdf"
        require_complete(data)
        facts = read_pdf_signature(data)  # a file pyHanko cannot parse is refused here
        evidence = read_pdf(data)
        signed = _attached_document(evidence.attachments)
        checks.append(_pdf_check(signed, evidence.qr_texts, evidence.text))
        checks.append(_pdf_signature_check(facts, signed))
    else:
        fmt = "json"
        signed = read_document(data)
    checks.insert(0, _signature_check(signed, public_key))
    if session is None:
        checks.append(_audit_check(signed, None, station_id, public_key))
    else:
        checks += database_checks(session, signed, station_id, public_key)
    return CheckReport(
        file=name,
        format=fmt,
        document_id=signed.doc_id,
        kind=str(signed.document.get("kind", "")),
        sha256=signed.sha256,
        key_fingerprint=signed.key_fingerprint,
        checks=tuple(checks),
    )


def database_checks(
    session: Session, signed: SignedDocument, station_id: str | None, public_key: Ed25519PublicKey
) -> tuple[Check, Check]:
    """The checks that read the station database: `audit` and `stored` (O(log n) queries)."""
    return (
        _audit_check(signed, session, station_id, public_key),
        stored_check(session, signed, station_id),
    )


def _attached_document(attachments: dict[str, bytes]) -> SignedDocument:
    names = [name for name in attachments if name.endswith(".json")]
    if len(names) != 1:
        raise InvalidDocument(f"PDF has {len(names)} embedded JSON documents; expected exactly 1")
    signed = read_document(attachments[names[0]], what="embedded certificate")
    if names[0] != f"{signed.doc_id}.json":
        raise InvalidDocument(f"embedded file {names[0]} does not hold {signed.doc_id}")
    return signed


def _signature_check(signed: SignedDocument, public_key: Ed25519PublicKey) -> Check:
    try:
        check_signature(signed, public_key)
    except VerificationFailed as e:
        return Check("signature", "failed", str(e))
    return Check("signature", "ok", f"Ed25519 by {signed.key_fingerprint}")


def _pdf_check(signed: SignedDocument, qr_texts: tuple[str, ...], text: str) -> Check:
    ours = [r for r in map(qr_reference, qr_texts) if r]
    if not ours:
        return Check("pdf", "failed", "no certificate QR code could be decoded on page 1")
    qr_id, qr_hash = ours[0]
    if qr_id != signed.doc_id or qr_hash != signed.sha256:
        return Check(
            "pdf",
            "failed",
            f"QR code names {qr_id} sha256 {qr_hash[:16]}…, the attachment is {signed.doc_id} "
            f"sha256 {signed.sha256[:16]}…",
        )
    flat = _flat(text)
    if signed.sha256 not in flat or signed.doc_id not in flat:
        return Check("pdf", "failed", "the page does not show the attached document's id and hash")
    try:
        lines = layout_of(signed).lines()
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return Check("pdf", "failed", f"the attached document cannot be laid out: {e}"[:200])
    missing = [line for line in lines if _flat(line) not in flat]
    if missing:
        return Check(
            "pdf",
            "failed",
            f"the page does not show what the signed JSON says: {len(missing)} of {len(lines)} "
            f"lines missing, first {missing[0][:60]!r}",
        )
    return Check("pdf", "ok", f"QR code, printed hash and all {len(lines)} lines match the JSON")


def _pdf_signature_check(facts: PdfSignatureFacts | None, signed: SignedDocument) -> Check:
    if facts is None:
        if signed.legacy:
            since = JCS_SINCE.get(signed.schema, 0)
            return Check(
                "pdf_signature",
                "skipped",
                f"no PDF signature (issued before {signed.schema.rsplit('/', 1)[-1]} "
                f"schema version {since})",
            )
        return Check("pdf_signature", "failed", "the PDF has no PDF signature")
    problem = facts.problem(signed.key_fingerprint)
    if problem is not None:
        return Check("pdf_signature", "failed", problem)
    return Check(
        "pdf_signature", "ok", f"PAdES signature over the entire file by {facts.signer_fingerprint}"
    )


def _flat(text: str) -> str:
    return "".join(text.split()).replace("\xa0", "")


def _audit_check(
    signed: SignedDocument,
    session: Session | None,
    station_id: str | None,
    public_key: Ed25519PublicKey,
) -> Check:
    seal = signed.document.get("closing_event")
    if not isinstance(seal, dict):
        return Check("audit", "failed", "document carries no closing audit event")
    if "log" in signed.document:
        return _tree_check(signed, seal, session, station_id, public_key)
    return _chain_check(signed, seal, session, station_id)


def _tree_check(
    signed: SignedDocument,
    seal: dict,
    session: Session | None,
    station_id: str | None,
    public_key: Ed25519PublicKey,
) -> Check:
    """A document with a signed head: its proofs offline, then the stored log, in O(log n)."""
    try:
        head = head_of_document(signed.document, source=signed.doc_id or "document")
        block = signed.document["log"]
        index, path = block["leaf_index"], [bytes.fromhex(p) for p in block["inclusion_path"]]
        digest = str(seal["hash"])
    except (InvalidDocument, KeyError, TypeError, ValueError) as e:
        return Check("audit", "failed", f"malformed log seal: {str(e)[:120]}")
    assert head is not None
    issuer = signed.document.get("issuer", {}).get("station_id")
    if issuer not in (None, head.station_id) or not signed_by(head, public_key):
        return Check("audit", "failed", "the tree head is not the issuing station's signed head")
    leaf = merkle.leaf_hash(log_tree.leaf_data(digest))
    if not isinstance(index, int) or not merkle.verify_inclusion(
        leaf, index, head.size, path, head.root
    ):
        return Check("audit", "failed", "the closing event's inclusion proof does not verify")
    proved = f"closing event is leaf {index} of station {head.station_id}'s signed head"
    if session is None:
        return Check("audit", "ok", f"{proved} (inclusion proof; no database at hand)")
    if head.station_id != station_id and log_tree.tree_size(session, head.station_id) == 0:
        return Check("audit", "skipped", f"{proved}; station {head.station_id} has no log here")
    problem = stored_tree_problem(session, head, seal.get("seq"), digest, index)
    if problem is not None:
        return Check("audit", "failed", problem)
    return Check("audit", "ok", f"{proved}; the stored log holds it and extends that head")


def stored_tree_problem(
    session: Session, head: SignedHead, seq: object, digest: str, index: int
) -> str | None:
    """Why the stored log does not hold the sealed event under `head`, or None (O(log n)).

    The event row must be intact and be the leaf the proof names, and the stored tree must
    extend the head (consistency proof from the stored subtree hashes). `log verify` goes
    further and recomputes every stored hash from the events.
    """
    station = head.station_id
    event = event_at(session, seq) if isinstance(seq, int) else None
    if event is None or event.hash != digest or event.station_id != station:
        return f"closing event {seq} is not in the processing log as sealed"
    if event_digest(event) != event.hash:
        return f"log event {seq} was changed after it was written"
    if event.leaf_index != index:
        return f"log event {seq} was moved from leaf {index} to {event.leaf_index}"
    size = log_tree.tree_size(session, station)
    if size < head.size:
        return f"station {station}'s log has {size} events, fewer than the head's {head.size}"
    steps = merkle.consistency_ranges(head.size, size) if head.size else []
    try:  # the stored leaf, the current root and the consistency proof: one query
        leaf, current, *proof = log_tree.ranges_hashes(
            session, station, [(index, index + 1), (0, size), *steps]
        )
    except KeyError:
        return f"station {station}'s stored tree is incomplete"
    if leaf != merkle.leaf_hash(log_tree.leaf_data(digest)):
        return f"station {station}'s stored tree does not hold event {seq} as its leaf {index}"
    if not merkle.verify_consistency(head.size, size, head.root, current, proof):
        return f"station {station}'s log is not an extension of the document's head"
    return None


def _chain_check(
    signed: SignedDocument, seal: dict, session: Session | None, station_id: str | None
) -> Check:
    """A document issued before signed heads: its seal, and the hash chain up to it (O(n))."""
    seq, digest = seal.get("seq"), seal.get("hash")
    if session is None:
        return Check("audit", "skipped", "no station database at hand")
    issuer = signed.document.get("issuer", {}).get("station_id")
    event = event_at(session, seq) if isinstance(seq, int) else None
    if event is None:
        if station_id is not None and issuer != station_id:
            return Check("audit", "skipped", f"issued by station {issuer}, not in this database")
        return Check("audit", "failed", f"closing event {seq} is not in the processing log")
    if event.hash != digest:
        if issuer != station_id and event.station_id != issuer:
            # Another station's database: its seq numbers are not ours.
            return Check("audit", "skipped", f"issued by station {issuer}, not in this database")
        return Check("audit", "failed", f"log event {seq} has a different hash than the seal")
    if event_digest(event) != event.hash:
        return Check("audit", "failed", f"log event {seq} was changed after it was written")
    report = verify_chain(session, upto=seq)
    if (broken := report.broken) is not None:
        return Check("audit", "failed", f"log chain broken at event {broken.seq} ({broken.kind})")
    return Check("audit", "ok", f"sealed to log event {seq}; chain verifies up to it")


def stored_check(session: Session, signed: SignedDocument, station_id: str | None) -> Check:
    """Whether the station database holds exactly this document under its id."""
    row = session.scalar(select(Certificate).where(Certificate.cert_id == signed.doc_id))
    issuer = signed.document.get("issuer", {}).get("station_id")
    if row is None and station_id is not None and issuer != station_id:
        return Check("stored", "skipped", f"issued by station {issuer}, not in this database")
    if row is None:
        return Check("stored", "failed", f"no document {signed.doc_id} in this database")
    if row.document.encode("utf-8") != signed.data:
        return Check("stored", "failed", f"the database holds another document as {signed.doc_id}")
    return Check("stored", "ok", f"{signed.doc_id} is stored with this SHA-256")
