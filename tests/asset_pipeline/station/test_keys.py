"""The station key: created with the station, private and stable; the fingerprint customers read."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from asset_pipeline.errors import KeyFileError
from asset_pipeline.station import keys
from asset_pipeline.station.context import Station


def test_initialize_creates_a_private_0600_ed25519_key(station: Station) -> None:
    path = station.data_dir / keys.PRIVATE_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (station.data_dir / keys.PUBLIC_KEY_NAME).read_text().startswith("-----BEGIN PUBLIC")
    signature = station.key.sign(b"data")
    assert keys.verify_signature(station.key.public_key, signature, b"data")
    assert not keys.verify_signature(station.key.public_key, signature, b"date")


def test_key_survives_reopening(station: Station) -> None:
    assert Station(data_dir=station.data_dir).key.fingerprint == station.key.fingerprint


def test_station_used_before_init_gets_a_key(tmp_path: Path) -> None:
    fresh = Station(data_dir=tmp_path / "implicit")
    assert fresh.config.station_id
    assert (tmp_path / "implicit" / keys.PRIVATE_KEY_NAME).exists()
    fresh.close()


def test_fingerprint_is_grouped_sha256_of_the_raw_key(station: Station) -> None:
    import hashlib

    raw = station.key.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert re.fullmatch(r"([0-9a-f]{4}:){15}[0-9a-f]{4}", station.key.fingerprint)
    assert station.key.fingerprint.replace(":", "") == hashlib.sha256(raw).hexdigest()


def test_key_readable_by_others_is_refused(station: Station) -> None:
    (station.data_dir / keys.PRIVATE_KEY_NAME).chmod(0o644)
    with pytest.raises(KeyFileError, match="mode 0644"):
        keys.load_station_key(station.data_dir)


def test_public_key_file_must_be_ed25519_pem(tmp_path: Path) -> None:
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("hello")
    with pytest.raises(KeyFileError, match="not a PEM public key"):
        keys.load_public_key(not_pem)
    ec = tmp_path / "ec.pem"
    ec.write_bytes(
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="not an Ed25519"):
        keys.load_public_key(ec)
    with pytest.raises(KeyFileError, match="cannot read"):
        keys.load_public_key(tmp_path / "missing.pem")
