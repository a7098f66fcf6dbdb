"""The fleet's key registry: every station's public key, added when the station first connects.

Several stations share one database, each with its own data directory, id and Ed25519 key.
Documents name only the fingerprint of the key that signed them; the registry maps it to the
station and the PEM, so a certificate from any station verifies against the database, and a
retired key (a stolen laptop, a station taken out of service) is marked with when and why,
while what it signed before stays verifiable.

Rules, checked when a station registers:
- a fingerprint belongs to one station id (a copied data directory with a new id is refused);
- a station id has at most one active key (two machines configured with the same id are
  refused; after `retire`, the id may come back with a new key);
- a retired key is refused: it signs nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.errors import KeyFileError, RegistryConflict, StationNotFound, StationRetired
from asset_pipeline.station.keys import fingerprint, parse_public_pem, public_pem
from asset_pipeline.storage.models import RegisteredKey, utcnow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def register_station(
    session: Session,
    *,
    station_id: str,
    public_key: Ed25519PublicKey,
    organization: str = "",
    site: str = "",
    relabel: bool = False,
) -> RegisteredKey:
    """The registry row of this station's key, added on first contact (flushed).

    `relabel` moves the key to `station_id` when it is registered under another id: only for
    `init --force`, which gives the station holding the private key a new id on purpose.

    Two processes of one station may register its key at once; the loser's flush raises
    IntegrityError (unique fingerprint), and calling again in a new transaction finds the row.

    Raises:
        StationRetired: the key was retired.
        RegistryConflict: the key is registered to another station id, or the id has another
            active key.
    """
    found = _check(session, station_id, public_key, relabel=relabel)
    if found is not None:
        return found
    row = RegisteredKey(
        station_id=station_id,
        fingerprint=fingerprint(public_key),
        public_key_pem=public_pem(public_key),
        organization=organization,
        site=site,
    )
    session.add(row)
    session.flush()  # IntegrityError when a concurrent first contact of this key won
    return row


def _check(
    session: Session, station_id: str, public_key: Ed25519PublicKey, *, relabel: bool = False
) -> RegisteredKey | None:
    fp = fingerprint(public_key)
    row = key_by_fingerprint(session, fp)
    if row is not None:
        if row.station_id != station_id and relabel and row.retired_at is None:
            other = active_key(session, station_id)
            if other is not None:
                raise RegistryConflict(
                    f"station id {station_id} is registered with another key ({other.fingerprint})"
                )
            row.station_id = station_id
        if row.station_id != station_id:
            raise RegistryConflict(
                f"key {fp} is registered to station {row.station_id}, not {station_id} "
                "(a copied data directory? give each station its own)"
            )
        if row.retired_at is not None:
            raise StationRetired(
                f"station {station_id}'s key {fp} was retired on {row.retired_at:%Y-%m-%d}: "
                f"{row.retired_reason}; it signs nothing more "
                "(a new data directory makes a new key)"
            )
        return row
    other = active_key(session, station_id)
    if other is not None and other.fingerprint == fp:
        # SQLite reads outside a write transaction each see the latest commit: a process of
        # this station registered the key between the two reads above.
        return other
    if other is not None:
        raise RegistryConflict(
            f"station id {station_id} is registered with another key ({other.fingerprint}); "
            f"this data directory's key is {fp}: two stations with one id? "
            f"(retire the old key with `asset-pipeline station retire {station_id}`)"
        )
    return None


def key_by_fingerprint(session: Session, fp: str) -> RegisteredKey | None:
    """The registry row of the key with fingerprint `fp`, if registered."""
    return session.scalar(select(RegisteredKey).where(RegisteredKey.fingerprint == fp))


def active_key(session: Session, station_id: str) -> RegisteredKey | None:
    """The station's key that is not retired, if any."""
    return session.scalar(
        select(RegisteredKey).where(
            RegisteredKey.station_id == station_id, RegisteredKey.retired_at.is_(None)
        )
    )


def list_keys(session: Session) -> list[RegisteredKey]:
    """Every registered key, oldest first."""
    return list(session.scalars(select(RegisteredKey).order_by(RegisteredKey.id)))


def retire(session: Session, key: str, reason: str, *, by: str) -> RegisteredKey:
    """Mark a station's active key (named by station id or full fingerprint) retired.

    Raises:
        ValueError: no reason given.
        StationNotFound: no active key has this station id or fingerprint.
    """
    if not reason.strip():
        raise ValueError("retiring a key needs a reason")
    row = key_by_fingerprint(session, key) or active_key(session, key)
    if row is None or row.retired_at is not None:
        raise StationNotFound(f"{key} with an active key")
    row.retired_at = utcnow()
    row.retired_reason = reason.strip()
    row.retired_by = by
    session.flush()
    return row


def public_key_of(row: RegisteredKey) -> Ed25519PublicKey:
    """The row's key, checked against its fingerprint (a swapped PEM is caught here).

    Raises:
        KeyFileError: the PEM is not an Ed25519 key, or not the key the fingerprint names.
    """
    key = parse_public_pem(row.public_key_pem.encode("ascii"), what=f"registry row {row.id}")
    if fingerprint(key) != row.fingerprint:
        raise KeyFileError(
            f"registry row {row.id}: its PEM is not the key {row.fingerprint} (altered)"
        )
    return key


def valid_at(row: RegisteredKey, moment: datetime) -> bool:
    """True when the key was not yet retired at `moment`."""
    return row.retired_at is None or moment < row.retired_at
