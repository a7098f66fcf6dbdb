"""The station's X.509 certificate: what a PDF signature names as its signer.

A PDF signature (PAdES) needs a certificate for the signing key. By default the station makes
a self-signed one for its Ed25519 key and keeps it beside the key (`station_cert.pem`); an
organisation with its own CA configures `certificate = "path.pem"` under `[station]` (the
leaf first, then its chain). Either way the certificate's public key must be the station key:
a customer verifies against the key, and the certificate only carries it into the PDF.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from asset_pipeline.errors import ConfigError, KeyFileError
from asset_pipeline.station.atomic import write_atomic
from asset_pipeline.station.keys import fingerprint

if TYPE_CHECKING:
    from asset_pipeline.station.config import StationConfig
    from asset_pipeline.station.keys import StationKey

CERTIFICATE_NAME = "station_cert.pem"
_VALID_YEARS = 30  # a certificate must outlive the retention of what it signed


@dataclass(frozen=True)
class SigningCertificate:
    """The station key's certificate and the chain up to its CA (empty when self-signed)."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    path: Path

    @property
    def self_signed(self) -> bool:
        """True when the station made it itself."""
        return self.certificate.issuer == self.certificate.subject and not self.chain


def station_certificate(
    data_dir: Path, key: StationKey, config: StationConfig
) -> SigningCertificate:
    """The configured certificate, else the self-signed one (created on first use).

    Raises:
        ConfigError: the configured file is missing, unreadable, or certifies another key.
        KeyFileError: the self-signed certificate cannot be written.
    """
    if config.certificate:
        path = data_dir / Path(config.certificate).expanduser()  # an absolute path stays
        found = _load(path)
        if found is None:
            raise ConfigError(f"[station] certificate {path} holds no PEM certificate")
        _require_key(found, key, path)
        return found
    path = data_dir / CERTIFICATE_NAME
    found = _load(path) if path.exists() else None
    if (
        found is not None
        and _key_of(found.certificate) == _raw(key)
        and found.certificate.subject == _subject(config)
    ):
        return found
    # None yet, or one for a replaced key or a renamed organisation: make it (again).
    certificate = _self_signed(key, config)
    try:
        write_atomic(path, certificate.public_bytes(serialization.Encoding.PEM))
    except OSError as e:
        raise KeyFileError(f"cannot write the station certificate {path}: {e.strerror}") from e
    return SigningCertificate(certificate=certificate, chain=(), path=path)


def _load(path: Path) -> SigningCertificate | None:
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"cannot read the station certificate {path}: {e.strerror}") from e
    except ValueError:
        return None
    return SigningCertificate(certificates[0], tuple(certificates[1:]), path)


def _require_key(found: SigningCertificate, key: StationKey, path: Path) -> None:
    if _key_of(found.certificate) != _raw(key):
        raise ConfigError(
            f"[station] certificate {path} is not for the station key {key.fingerprint}"
            + _names(found.certificate)
        )


def _names(certificate: x509.Certificate) -> str:
    public = certificate.public_key()
    if isinstance(public, Ed25519PublicKey):
        return f" (it certifies {fingerprint(public)})"
    return " (it certifies a key that is not Ed25519)"


def _raw(key: StationKey) -> bytes:
    return key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_of(certificate: x509.Certificate) -> bytes:
    """The certified key's raw bytes, or b"" when it is not an Ed25519 key."""
    public = certificate.public_key()
    if not isinstance(public, Ed25519PublicKey):
        return b""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _subject(config: StationConfig) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, f"asset-pipeline {config.station_id}")]
    if config.organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, config.organization))
    return x509.Name(attributes)


def _self_signed(key: StationKey, config: StationConfig) -> x509.Certificate:
    name = _subject(config)
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,  # non-repudiation: what a signed certificate is for
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * _VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key.private_key, None)  # Ed25519 takes no separate hash
    )
