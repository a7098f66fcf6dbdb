"""The findings contract other engineers build on, and the keyed hash."""

from __future__ import annotations

import dataclasses
import types

import pytest

import scanners
from scanners.findings import CATEGORIES, Finding, ValueHasher


def test_categories_are_the_shared_contract() -> None:
    assert CATEGORIES == (
        "personnummer", "samordningsnummer", "organisationsnummer", "email", "phone",
        "postal_address", "iban", "bankgiro", "plusgiro", "payment_card", "ip_address",
        "person_name",
    )  # fmt: skip


def test_finding_holds_no_value() -> None:
    assert [f.name for f in dataclasses.fields(Finding)] == [
        "category", "offset", "length", "confidence", "digest"
    ]  # fmt: skip
    f = Finding("email", 10, 20, 0.95, "ab" * 32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.offset = 3  # type: ignore[misc]
    assert not hasattr(f, "__dict__")


def test_digest_is_keyed() -> None:
    a, b = ValueHasher(b"a" * 32), ValueHasher(b"b" * 32)
    assert a.digest("198112189876") == ValueHasher(b"a" * 32).digest("198112189876")
    assert a.digest("198112189876") != b.digest("198112189876")
    assert a.digest("198112189876") != a.digest("198112189877")
    assert len(a.digest("x")) == 64
    assert "198112189876" not in a.digest("198112189876")


def test_hasher_hides_its_key_and_refuses_short_keys() -> None:
    assert "aaaa" not in repr(ValueHasher(b"a" * 32))
    with pytest.raises(ValueError, match="16 bytes"):
        ValueHasher(b"short")
    assert ValueHasher.random().digest("x") != ValueHasher.random().digest("x")


def test_public_api() -> None:
    public = sorted(
        n
        for n, v in vars(scanners).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    )
    assert scanners.__all__ == public
