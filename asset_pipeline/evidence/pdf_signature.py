"""The PDF signature (PAdES baseline B-B) over a whole certificate or report PDF.

The signed JSON inside a PDF is only half of the evidence: the page is what people read. So
the whole file is signed as a PDF with the station's Ed25519 key and its X.509 certificate
(pyHanko, `/SubFilter /ETSI.CAdES.detached`, SHA-512 as RFC 8419 pairs with Ed25519), and an
ordinary reader shows it as signed, and as changed when anything is added after signing.

`read_pdf_signature` reports what a verifier needs: whether the one signature covers the
entire file (pyHanko's `SignatureCoverageLevel.ENTIRE_FILE`: no byte outside its byte range
except the signature itself, and no incremental update after it), whether the digest and
the CMS signature hold, whether the space reserved for the signature holds nothing but it,
and which key signed. Trust in the certificate's issuer is not asked: the station key is
what a customer trusts, and the certificate only carries it into the PDF.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from asset_pipeline.errors import InvalidDocument
from asset_pipeline.station.keys import fingerprint

if TYPE_CHECKING:
    from asset_pipeline.station.certificate import SigningCertificate
    from asset_pipeline.station.keys import StationKey

log = logging.getLogger(__name__)

FIELD_NAME = "StationSignature"
# Hex digits reserved for the CMS blob (so 8 KiB of DER: the certificate, a CA chain of a few
# RSA certificates, the signed attributes); the rest is zero padding, checked on reading.
_RESERVED_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class PdfSignatureFacts:
    """What a PDF's signature proves, as `read_pdf_signature` found it."""

    count: int  # signature fields that hold a signature
    covers_whole_file: bool
    intact: bool  # the digest over the signed byte ranges matches
    valid: bool  # the CMS signature over the signed attributes holds
    clean_contents: bool  # the reserved /Contents space holds the signature and zeros, as written
    signer_fingerprint: str  # of the signing certificate's Ed25519 key ("" for another kind)
    signer: str  # the certificate's subject, for messages

    def problem(self, expected_fingerprint: str) -> str | None:
        """Why this signature does not prove the file, or None when it does.

        Args:
            expected_fingerprint: the key that signed the attached JSON (`keys.fingerprint`).
        """
        if self.count != 1:
            return f"the PDF holds {self.count} signatures; expected exactly 1"
        if not self.covers_whole_file:
            return "the PDF signature does not cover the whole file (changed after signing)"
        if not (self.intact and self.valid and self.clean_contents):
            return "the PDF signature does not match the file (altered after signing)"
        if self.signer_fingerprint != expected_fingerprint:
            key = self.signer_fingerprint or "a key that is not Ed25519"
            return (
                f"the PDF is signed by {key} ({self.signer}), not by {expected_fingerprint}, "
                "the key that signed the attached JSON"
            )
        return None


def sign_pdf(
    pdf: bytes, key: StationKey, certificate: SigningCertificate, *, field_name: str = FIELD_NAME
) -> bytes:
    """`pdf` with a PAdES signature by `key` appended, covering the whole result."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der = serialization.Encoding.DER
    private = key.private_key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in certificate.chain]
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(private),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha512",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
    out = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=_RESERVED_BYTES)
    return out.getvalue()


def read_pdf_signature(data: bytes) -> PdfSignatureFacts | None:
    """The facts of the PDF's signature, or None when it has none.

    Raises:
        InvalidDocument: the PDF or its signature cannot be parsed.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import CMSExtractionError, CMSStructuralError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        signatures = reader.embedded_signatures
        if not signatures:
            return None
        last = signatures[-1]
        # Trust roots: the signer's own certificate. Whether its CA is trusted is not the
        # question here; which key signed is (compared by the caller).
        context = ValidationContext(trust_roots=[last.signer_cert], allow_fetching=False)
        status = validate_pdf_signature(last, context)

        public = last.signer_cert.public_key
        signer_fingerprint = ""
        if public.algorithm == "ed25519":
            raw = bytes(public["public_key"].native)
            signer_fingerprint = fingerprint(Ed25519PublicKey.from_public_bytes(raw))
        return PdfSignatureFacts(
            count=len(signatures),
            covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            intact=bool(status.intact),
            valid=bool(status.valid),
            clean_contents=_exact_contents(
                data, last.byte_range, last.sig_object.raw_get("/Contents")
            ),
            signer_fingerprint=signer_fingerprint,
            signer=last.signer_cert.subject.human_friendly[:120],
        )
    except (
        PdfError,
        SignatureValidationError,
        CMSExtractionError,
        CMSStructuralError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
    ) as e:
        log.debug("PDF signature unreadable", exc_info=e)
        raise InvalidDocument(f"PDF cannot be read: {_first_line(e)}") from e


def _exact_contents(data: bytes, byte_range: list[int], contents: object) -> bool:
    """True when the unsigned gap holds exactly `<HEX>` of one DER structure and zero bytes.

    The gap between the two signed byte ranges is the only part of the file the signature
    does not cover. A CMS parser stops at the end of its DER structure, and a PDF reader
    ignores white space and letter case in a hex string, so a changed padding byte, an
    inserted space or a digit in the other case would otherwise go unnoticed.
    """
    raw = bytes(contents) if isinstance(contents, bytes | bytearray) else b""
    gap = data[byte_range[1] : byte_range[2]]
    if gap != b"<" + raw.hex().upper().encode("ascii") + b">":  # pyHanko writes upper case
        return False
    if len(raw) < 2 or raw[0] != 0x30:
        return False
    length, header = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, header = int.from_bytes(raw[2 : 2 + count], "big"), 2 + count
    end = header + length
    return end <= len(raw) and not raw[end:].strip(b"\0")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:120]
