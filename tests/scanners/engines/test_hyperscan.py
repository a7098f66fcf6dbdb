"""The hyperscan engine's database cache: compiled once per process, handed to workers."""

from __future__ import annotations

import pytest

from scanners.engines import export, hyperscan, preload
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher

HASHER = ValueHasher(b"k" * 32)
SAMPLE = b"Personnummer 811218-9876, bankgiro 5050-1055, mejl anna@example.se."


@pytest.fixture
def empty_cache(monkeypatch) -> None:
    monkeypatch.setattr(hyperscan, "_DATABASES", {})


def test_a_worker_loads_the_parents_databases(empty_cache, monkeypatch) -> None:
    import hyperscan as library

    expected = RawMatcher(HASHER).scan(SAMPLE)
    databases = export()
    # Keyword-free 8-bit patterns (for their stretches), the rest, gated values (UTF-16 views:
    # when needed); without the C extension all patterns are one database.
    assert len(databases) == (3 if hyperscan._hot is not None else 2)
    hyperscan._DATABASES.clear()  # a fresh worker process
    preload(databases)

    def no_compiling(**kwargs: object) -> None:
        raise AssertionError("compiled although the database was preloaded")

    monkeypatch.setattr(library, "Database", no_compiling)
    assert RawMatcher(HASHER).scan(SAMPLE) == expected


def test_an_unusable_database_is_compiled_again(empty_cache) -> None:
    expected = RawMatcher(HASHER).scan(SAMPLE)
    preload({key: b"not a database" for key in export()})
    assert RawMatcher(HASHER).scan(SAMPLE) == expected
