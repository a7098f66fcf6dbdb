"""The station's Ed25519 signing key: created once, kept 0600, published as PEM + fingerprint.

The fingerprint customers compare is the SHA-256 of the 32 raw public-key bytes, written as
64 lowercase hex digits in 16 groups of 4 joined by ":" (e.g. `3f2a:91c0:...`).
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from asset_pipeline.errors import KeyFileError
from asset_pipeline.evidence.canonical import sha256_hex
from asset_pipeline.station.atomic import write_atomic

log = logging.getLogger(__name__)

PRIVATE_KEY_NAME = "station_key.pem"
PUBLIC_KEY_NAME = "station_key.pub.pem"


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex, in groups of four separated by colons."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = sha256_hex(raw)
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The SubjectPublicKeyInfo PEM text customers keep to verify certificates."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when `signature` is `public_key`'s Ed25519 signature over `data`."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class StationKey:
    """The station's key pair and where its private half lives."""

    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        """See `fingerprint()`."""
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature over `data` (64 bytes)."""
        return self.private_key.sign(data)


def ensure_station_key(data_dir: Path) -> StationKey:
    """Load the station key from `data_dir`, creating the pair first if there is none.

    Creation is atomic and race-free: the key is written to a temporary 0600 file and linked
    into place, so two processes initializing at once end up sharing one key.

    Raises:
        KeyFileError: the existing key cannot be used, or the new one cannot be written.
    """
    path = data_dir / PRIVATE_KEY_NAME
    if not path.exists():
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise KeyFileError(f"cannot create {data_dir}: {e.strerror}") from e
        _create(path)
    key = load_station_key(data_dir)
    public = data_dir / PUBLIC_KEY_NAME
    if not public.exists():
        _write_atomic(public, public_pem(key.public_key).encode("ascii"), 0o644)
    return key


def load_station_key(data_dir: Path) -> StationKey:
    """The station key in `data_dir`.

    Raises:
        KeyFileError: missing, readable by others, unreadable, or not an Ed25519 private key.
    """
    path = data_dir / PRIVATE_KEY_NAME
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise KeyFileError(f"no station key at {path}; run `asset-pipeline init`") from e
    except OSError as e:
        raise KeyFileError(f"cannot read station key {path}: {e.strerror}") from e
    if mode & 0o077:
        raise KeyFileError(
            f"station key {path} is accessible by others (mode {mode:04o}); chmod 600 it"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise KeyFileError(f"station key {path} is not a readable PEM private key") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"station key {path} is not an Ed25519 key")
    return StationKey(private_key=key, path=path)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (as `key export` prints it).

    Raises:
        KeyFileError: missing, unreadable, not PEM, or not Ed25519.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read public key {path}: {e.strerror}") from e
    return parse_public_pem(data, what=str(path))


def parse_public_pem(data: bytes, *, what: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes (a file, or a row of the fleet's key registry).

    Raises:
        KeyFileError: not PEM, or not Ed25519.
    """
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise KeyFileError(f"{what} is not a PEM public key") from e
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{what} is not an Ed25519 public key")
    return key


def _create(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        _write_atomic(path, pem, 0o600, replace=False)
    except FileExistsError:
        return  # another process created it first; theirs is the station's key
    log.info("created station key %s", path)


def _write_atomic(path: Path, data: bytes, mode: int, *, replace: bool = True) -> None:
    try:
        write_atomic(path, data, mode, replace=replace)
    except FileExistsError:
        raise
    except OSError as e:
        raise KeyFileError(f"cannot write {path}: {e.strerror}") from e
