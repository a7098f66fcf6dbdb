"""The findings contract other engineers build on, and the keyed hash."""

from __future__ import annotations

import hmac
import pickle

import pytest

from scanners.findings import CATEGORIES, Finding, ValueHasher


def test_categories_are_the_shared_contract() -> None:
    assert CATEGORIES == (
        "personnummer", "samordningsnummer", "organisationsnummer", "email", "phone",
        "postal_address", "iban", "bankgiro", "plusgiro", "payment_card", "ip_address",
        "person_name",
    )  # fmt: skip


def test_finding_holds_no_value() -> None:
    assert Finding._fields == ("category", "offset", "length", "confidence", "digest")
    f = Finding("email", 10, 20, 0.95, "ab" * 32)
    with pytest.raises(AttributeError):
        f.offset = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        f.value = "x"  # type: ignore[attr-defined]
    assert not hasattr(f, "__dict__")


def test_digest_is_keyed() -> None:
    a, b = ValueHasher(b"a" * 32), ValueHasher(b"b" * 32)
    assert a.digest("198112189876") == ValueHasher(b"a" * 32).digest("198112189876")
    assert a.digest("198112189876") != b.digest("198112189876")
    assert a.digest("198112189876") != a.digest("198112189877")
    assert len(a.digest("x")) == 64
    assert "198112189876" not in a.digest("198112189876")


def test_hasher_hides_its_key_and_refuses_empty_keys() -> None:
    assert "aaaa" not in repr(ValueHasher(b"a" * 32))
    with pytest.raises(ValueError, match="non-empty"):
        ValueHasher(b"")
    assert ValueHasher.random().digest("x") != ValueHasher.random().digest("x")


@pytest.mark.parametrize("key_length", [1, 16, 32, 64, 65, 200])
def test_digest_is_hmac_sha256_for_any_key_length(key_length: int) -> None:
    key = bytes(i % 251 + 1 for i in range(key_length))
    hasher = ValueHasher(key)
    for value in ("", "198112189876", "anna.ström@example.se", "x" * 300):
        assert hasher.digest(value) == hmac.digest(key, value.encode(), "sha256").hex()


def test_hasher_pickles_for_worker_processes() -> None:
    hasher = ValueHasher(b"w" * 32)
    again = pickle.loads(pickle.dumps(hasher))
    assert again.digest("198112189876") == hasher.digest("198112189876")
