"""Signed evidence documents: canonical JSON plus an Ed25519 signature block.

A signed document is the unsigned document with one more key, `signature`:
`{"algorithm": "Ed25519", "key_fingerprint": "<keys.fingerprint>", "value": "<128 hex>"}`.
The signature covers the canonical bytes of the document without that key; the file is the
canonical bytes of the whole, so any changed byte either breaks the JSON, makes it
non-canonical, changes signed content, or changes the signature block (checked exactly).

Documents are signed in RFC 8785 (JCS) and say so in the signed part
(`"canonicalization": "RFC8785"`, from the schema versions in `JCS_SINCE` on); a document
without that field was issued earlier in the older encoding and is verified in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asset_pipeline.errors import InvalidDocument, UnsupportedSchema, VerificationFailed
from asset_pipeline.evidence.canonical import (
    CANONICALIZATION,
    RFC8785,
    document_bytes,
    parse_strict,
    require_canonical,
    sha256_hex,
)
from asset_pipeline.station.keys import fingerprint, verify_signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from asset_pipeline.station.keys import StationKey

ALGORITHM = "Ed25519"
SANITIZATION = "asset-pipeline/certificate-of-sanitization"
DESTRUCTION = "asset-pipeline/certificate-of-destruction"
BATCH_REPORT = "asset-pipeline/batch-report"
RETURN_REPORT = "asset-pipeline/return-report"
# The newest schema version this tool writes and reads, per document schema.
SCHEMAS = {SANITIZATION: 3, DESTRUCTION: 3, BATCH_REPORT: 3, RETURN_REPORT: 2}
# The first version of each schema signed in RFC 8785 and issued with a PDF signature.
JCS_SINCE = {SANITIZATION: 3, DESTRUCTION: 3, BATCH_REPORT: 3, RETURN_REPORT: 2}
# A JSON file may end with one newline (`jq -c` writes one): the document is the bytes before it.
_TRAILING_NEWLINE = b"\n"
_SIGNATURE_KEYS = {"algorithm", "key_fingerprint", "value"}
_HEX_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")


@dataclass(frozen=True)
class SignedDocument:
    """A signed document and its exact file bytes."""

    document: dict[str, Any]
    data: bytes

    @property
    def sha256(self) -> str:
        """SHA-256 of the file bytes (printed on the PDF and carried in its QR code)."""
        return sha256_hex(self.data)

    @property
    def doc_id(self) -> str:
        """The certificate or report id."""
        return str(self.document.get("id", ""))

    @property
    def schema(self) -> str:
        """The schema name, e.g. `SANITIZATION`."""
        return str(self.document.get("schema", ""))

    @property
    def key_fingerprint(self) -> str:
        """Fingerprint of the key that signed it."""
        return str(self.document["signature"]["key_fingerprint"])

    @property
    def legacy(self) -> bool:
        """Issued before RFC 8785 and PDF signatures (no `canonicalization` field)."""
        return CANONICALIZATION not in self.document

    @property
    def signed_bytes(self) -> bytes:
        """The canonical bytes of the unsigned document: what the Ed25519 signature covers."""
        return document_bytes({k: v for k, v in self.document.items() if k != "signature"})


def sign_document(unsigned: dict[str, Any], key: StationKey) -> SignedDocument:
    """Sign `unsigned` (which must name a known schema) with the station key, in RFC 8785.

    Raises:
        ValueError: already signed, or a value RFC 8785 cannot carry (NaN, an integer
            beyond 2**53).
    """
    if "signature" in unsigned:
        raise ValueError("document is already signed")
    _check_schema(unsigned, what="document")
    unsigned = {**unsigned, CANONICALIZATION: RFC8785}
    signature = key.sign(document_bytes(unsigned))
    document = {
        **unsigned,
        "signature": {
            "algorithm": ALGORITHM,
            "key_fingerprint": key.fingerprint,
            "value": signature.hex(),
        },
    }
    return SignedDocument(document=document, data=document_bytes(document))


def read_document(data: bytes, *, what: str = "certificate") -> SignedDocument:
    """Parse signed-document bytes: strict, canonical, a known schema, a well-formed signature.

    This does not check the signature itself (see `check_signature`). One trailing newline
    is allowed and is not part of the document.

    Raises:
        UnsupportedSchema: written by a newer schema version than this tool reads.
        InvalidDocument: anything else about the bytes is wrong.
    """
    data = data.removesuffix(_TRAILING_NEWLINE)
    value = parse_strict(data, what=what)
    if not isinstance(value, dict):
        raise InvalidDocument(f"{what} is not a JSON object")
    _check_schema(value, what=what)  # before canonical form: a newer schema says so first
    _check_encoding(value, what=what)
    require_canonical(value, data, what=what)
    document = value
    block = document.get("signature")
    if not isinstance(block, dict) or set(block) != _SIGNATURE_KEYS:
        raise InvalidDocument(f"{what} has no well-formed signature block")
    if block["algorithm"] != ALGORITHM:
        raise InvalidDocument(f"{what} is signed with {block['algorithm']!r}, not {ALGORITHM}")
    if not isinstance(block["value"], str) or not _HEX_SIGNATURE.match(block["value"]):
        raise InvalidDocument(f"{what} signature is not 128 lowercase hex digits")
    return SignedDocument(document=document, data=data)


def check_signature(signed: SignedDocument, public_key: Ed25519PublicKey) -> None:
    """Raise unless `public_key` made the document's signature.

    Raises:
        VerificationFailed: signed by another key, or the content does not match the signature.
    """
    expected = fingerprint(public_key)
    if signed.key_fingerprint != expected:
        raise VerificationFailed(
            f"{signed.doc_id or 'document'} was signed by key {signed.key_fingerprint}, "
            f"not by the given key {expected}"
        )
    signature = bytes.fromhex(signed.document["signature"]["value"])
    if not verify_signature(public_key, signature, signed.signed_bytes):
        raise VerificationFailed(
            f"{signed.doc_id or 'document'}: signature does not match the content (altered)"
        )


def _check_schema(document: dict[str, Any], *, what: str) -> None:
    schema, version = document.get("schema"), document.get("schema_version")
    if schema not in SCHEMAS:
        raise InvalidDocument(f"{what} has unknown schema {str(schema)[:80]!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidDocument(f"{what} has no valid schema_version")
    if version > SCHEMAS[schema]:
        raise UnsupportedSchema(
            f"{what} uses {schema} version {version}; this tool reads up to version "
            f"{SCHEMAS[schema]} (upgrade asset-pipeline)"
        )


def _check_encoding(document: dict[str, Any], *, what: str) -> None:
    """A document of a JCS schema version must say RFC 8785, and an older one must not."""
    encoding = document.get(CANONICALIZATION)
    if encoding is not None and encoding != RFC8785:
        raise InvalidDocument(f"{what} names an unknown canonicalization {str(encoding)[:40]!r}")
    expected = document["schema_version"] >= JCS_SINCE[document["schema"]]
    if expected != (encoding == RFC8785):
        raise InvalidDocument(
            f"{what} is {document['schema']} version {document['schema_version']}, which is "
            + ("signed in RFC 8785 but does not say so" if expected else "not signed in RFC 8785")
        )
