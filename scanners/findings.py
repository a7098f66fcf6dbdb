"""The value-free result of every detector: a category, a place, a confidence and a keyed hash.

A `Finding` never holds the matched text. Distinct counts come from `ValueHasher`, an HMAC-SHA256
keyed per batch: the same personnummer on two drives of one batch gives the same digest, while a
digest cannot be tested against a guessed value without the batch key (plain SHA-256 of a
personnummer could be reversed by enumerating the few hundred million valid numbers).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

CATEGORIES = (
    "personnummer",
    "samordningsnummer",
    "organisationsnummer",
    "email",
    "phone",
    "postal_address",
    "iban",
    "bankgiro",
    "plusgiro",
    "payment_card",
    "ip_address",
    "person_name",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value: where it is and how sure we are, never what it is.

    `offset` and `length` are byte offsets for the raw fast path and character offsets for the
    text path; `digest` is the keyed hash hex of the normalized value.
    """

    category: str
    offset: int
    length: int
    confidence: float
    digest: str


class ValueHasher:
    """Keyed hash (HMAC-SHA256) of normalized values, with one key per batch.

    Args:
        key: the batch key; at least 16 bytes, so the digests cannot be brute-forced.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < 16:
            raise ValueError("ValueHasher key must be at least 16 bytes")
        self._key = bytes(key)

    @classmethod
    def random(cls) -> ValueHasher:
        """A hasher with a fresh random key, for a batch or a one-off scan."""
        return cls(secrets.token_bytes(32))

    def digest(self, normalized: str) -> str:
        """Hex HMAC-SHA256 of `normalized` (the category's canonical form of the value)."""
        return hmac.digest(self._key, normalized.encode("utf-8"), "sha256").hex()

    def __repr__(self) -> str:
        # The key is a secret of the batch: never shown.
        return "ValueHasher(key=<hidden>)"
