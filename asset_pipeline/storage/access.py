"""Batch access tokens: what a customer types on the verification page to get their reports.

A token is 128 random bits, shown once (at `batch close`) as 32 hex digits in four groups,
and stored only as the SHA-256 of its bytes: a copy of the database does not give access, and
a token cannot be derived from anything the customer's documents carry. A hash lookup needs
no constant-time comparison: an attacker learns at most a prefix of a hash they cannot invert.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_pipeline.storage.models import Batch, BatchAccess

TOKEN_BYTES = 16
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def issue_token(session: Session, batch: Batch) -> str:
    """Make the batch's access token, store its hash, and return the token (shown once)."""
    raw = secrets.token_bytes(TOKEN_BYTES)
    session.add(BatchAccess(batch_id=batch.id, token_sha256=_digest(raw)))
    session.flush()
    return format_token(raw)


def batch_for_token(session: Session, token: str) -> Batch | None:
    """The batch a token opens, or None (malformed, unknown: the caller cannot tell which)."""
    raw = parse_token(token)
    if raw is None:
        return None
    access = session.scalar(select(BatchAccess).where(BatchAccess.token_sha256 == _digest(raw)))
    return session.get(Batch, access.batch_id) if access is not None else None


def format_token(raw: bytes) -> str:
    """`3f9a1c2b-7d4e5f60-...`: 32 lowercase hex digits in groups of eight."""
    digits = raw.hex()
    return "-".join(digits[i : i + 8] for i in range(0, len(digits), 8))


def parse_token(text: str) -> bytes | None:
    """The token's bytes from what a person typed (case, spaces and dashes ignored), or None."""
    digits = re.sub(r"[\s-]", "", text[:200]).lower()
    return bytes.fromhex(digits) if _TOKEN.match(digits) else None


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
