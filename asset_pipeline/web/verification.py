"""What the verification page concludes about a document, uploaded or named by its QR link.

The checks themselves are `evidence.verify`'s; this module only finds the signing key in the
fleet's registry (documents name their key by fingerprint), adds two checks of its own (the
key's registry status, and whether the workshop's database holds exactly this document), and
puts the result in the page's words. A document whose key is unknown, altered in the registry,
or was retired before the document's date is not valid, whatever its signature says.
"""

from __future__ import annotations

import hmac
import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select

from asset_pipeline.errors import InvalidDocument, KeyFileError
from asset_pipeline.evidence.layout import Layout, layout_for
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.evidence.signing import SignedDocument, read_document
from asset_pipeline.evidence.verify import Check, database_checks, verify_bytes
from asset_pipeline.station.keys import parse_public_pem
from asset_pipeline.storage import Certificate, RegisteredKey
from asset_pipeline.storage.stations import key_by_fingerprint, public_key_of
from asset_pipeline.web.texts import CheckText, describe

# What reading a hostile file may raise besides InvalidDocument (a 5,000-digit integer is a
# ValueError from `json`, deep nesting a RecursionError): each makes the file unreadable.
UNREADABLE = (InvalidDocument, ValueError, RecursionError)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Signer:
    """The registry's record of the key that signed a document."""

    station_id: str
    fingerprint: str
    organization: str
    site: str
    status: str
    registered_at: datetime
    retired_at: datetime | None
    retired_reason: str


@dataclass(frozen=True)
class Verdict:
    """Everything the page shows about one document."""

    valid: bool
    document_id: str
    kind: str
    format: str
    sha256: str
    fingerprint: str
    checks: tuple[CheckText, ...]
    layout: Layout | None = None
    signer: Signer | None = None
    in_log: str = "unknown"  # yes | no | unknown

    @property
    def reason(self) -> CheckText | None:
        """The first failed check: why the document is not valid."""
        return next((c for c in self.checks if c.status == "failed"), None)


def verify_upload(session: Session, data: bytes) -> Verdict:
    """Verify a certificate or report file's bytes (signed JSON, or the PDF carrying it)."""
    fmt = "pdf" if data.startswith(b"%PDF") else "json"
    try:
        signed = _read_json(data) if fmt == "json" else _signed_in(data, fmt)
    except UNREADABLE as e:
        return _unreadable(fmt, _one_line(e))
    row = key_by_fingerprint(session, signed.key_fingerprint)
    key_check, public_key = _key_check(row, signed)
    checks = [key_check]
    if public_key is not None and fmt == "json":
        assert row is not None
        offline = [c for c in _offline_checks(data, row.public_key_pem) if c.name != "audit"]
        checks += [*offline, *database_checks(session, signed, row.station_id, public_key)]
    elif public_key is not None:
        assert row is not None
        try:
            report = verify_bytes(data, public_key, session=session, station_id=row.station_id)
        except UNREADABLE as e:
            return _unreadable(fmt, _one_line(e))
        checks += report.checks
    texts = tuple(describe(c.name, c.status, c.detail) for c in checks)
    # "In the log" means the log holds *this* document: its closing event is there (audit) and
    # the document stored with that event is byte for byte the one shown (stored).
    statuses = {c.name: c.status for c in checks}
    if "failed" in (statuses.get("audit"), statuses.get("stored")):
        in_log = "no"
    elif statuses.get("audit") == statuses.get("stored") == "ok":
        in_log = "yes"
    else:
        in_log = "unknown"
    return Verdict(
        valid=all(c.status != "failed" for c in checks),
        document_id=signed.doc_id,
        kind=str(signed.document.get("kind", "")),
        format=fmt,
        sha256=signed.sha256,
        fingerprint=signed.key_fingerprint,
        checks=texts,
        layout=_layout_json(data) if fmt == "json" else _layout(signed),
        signer=_signer(row),
        in_log=in_log,
    )


def verify_stored(session: Session, document_id: str, sha256: str) -> Verdict | None:
    """Verify the stored document a QR link names, or None when id and hash name none.

    An unknown id and a known id with the wrong hash get the same None, so the links cannot
    be used to find out which ids exist: the hash (printed on the customer's copy) is the key.
    """
    row = session.scalar(select(Certificate).where(Certificate.cert_id == document_id[:64]))
    if row is None or not hmac.compare_digest(row.sha256, sha256.lower()[:64]):
        return None
    return verify_upload(session, row.document.encode("utf-8"))


# What depends only on a JSON document's bytes (and the key) is kept per process, so a QR link
# opened again costs the database checks alone: the registry, the stored copy, and the log's
# O(log n) inclusion and consistency proofs, which are never cached (the database may change).
# Only JSON: PDFs are large and uploaded once.
@lru_cache(maxsize=512)
def _read_json(data: bytes) -> SignedDocument:
    return read_document(data)


@lru_cache(maxsize=512)
def _offline_checks(data: bytes, public_key_pem: str) -> tuple[Check, ...]:
    key = parse_public_pem(public_key_pem.encode("ascii"), what="registered key")
    return verify_bytes(data, key).checks


@lru_cache(maxsize=512)
def _layout_json(data: bytes) -> Layout | None:
    return _layout(_read_json(data))


def _signed_in(data: bytes, fmt: str) -> SignedDocument:
    """The signed JSON, to learn which key signed it (the checks proper come later)."""
    if fmt == "json":
        return read_document(data)
    try:  # only the attachment: 1 ms, where reading the page's text and QR code takes ~80 ms
        files = PdfReader(io.BytesIO(data), strict=True).attachments
        found = {name: blobs[0] for name, blobs in files.items() if blobs}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError):
        found = read_pdf(data).attachments  # the full reader names what is wrong
    attached = [blob for name, blob in found.items() if name.endswith(".json")]
    if len(attached) != 1:
        raise InvalidDocument(
            f"PDF has {len(attached)} embedded JSON documents; expected exactly 1"
        )
    return read_document(attached[0], what="embedded certificate")


def _key_check(
    row: RegisteredKey | None, signed: SignedDocument
) -> tuple[Check, Ed25519PublicKey | None]:
    fp = signed.key_fingerprint
    if row is None:
        return Check("key", "failed", f"key {fp} is not registered in this database"), None
    try:
        key = public_key_of(row)
    except KeyFileError as e:
        return Check("key", "failed", str(e)), None
    whose = f"station {row.station_id}'s key, registered {row.registered_at:%Y-%m-%d}"
    if row.retired_at is None:
        return Check("key", "ok", whose), key
    retired = f"retired on {row.retired_at:%Y-%m-%d %H:%M}Z ({row.retired_reason})"
    issued = _issued_at(signed)
    if issued is None or issued >= row.retired_at:
        return Check("key", "failed", f"{whose}, {retired}: the document is dated after that"), key
    return Check("key", "ok", f"{whose}, {retired}; the document is dated before that"), key


def _issued_at(signed: SignedDocument) -> datetime | None:
    try:
        return datetime.fromisoformat(str(signed.document.get("issued_at")))
    except ValueError:
        return None


def _layout(signed: SignedDocument) -> Layout | None:
    try:
        return layout_for(signed.document)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _signer(row: RegisteredKey | None) -> Signer | None:
    if row is None:
        return None
    return Signer(row.station_id, row.fingerprint, row.organization, row.site, row.status,
                  row.registered_at, row.retired_at, row.retired_reason)  # fmt: skip


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


def _unreadable(fmt: str, detail: str) -> Verdict:
    check = describe("format", "failed", detail)
    return Verdict(False, "", "", fmt, "", "", (check,))
