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


def _forbid_compiling(monkeypatch, no_compiling) -> None:
    """Compiling through the binding, or through libhs where `scanners._hs` is built, fails."""
    import hyperscan as library

    monkeypatch.setattr(library, "Database", no_compiling)
    if hyperscan._hs is not None:
        monkeypatch.setattr(hyperscan._hs, "compile", no_compiling)


def test_a_worker_loads_the_parents_databases(empty_cache, monkeypatch) -> None:

    expected = RawMatcher(HASHER).scan(SAMPLE)
    databases = export()
    # Keyword-free 8-bit patterns (for their stretches: IPv6, IBAN and the digit runs' kinds
    # apart from the rest), keyword-gated 8-bit patterns (near digits; the ten-digit number's
    # apart), the UTF-16 patterns, gated values (UTF-16 views: when needed); without the C
    # extension all patterns are one database.
    assert len(databases) == (8 if hyperscan._hot is not None else 2)
    hyperscan._DATABASES.clear()  # a fresh worker process
    preload(databases)

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the database was preloaded")

    _forbid_compiling(monkeypatch, no_compiling)
    assert RawMatcher(HASHER).scan(SAMPLE) == expected


def test_an_unusable_database_is_compiled_again(empty_cache) -> None:
    expected = RawMatcher(HASHER).scan(SAMPLE)
    preload({key: b"not a database" for key in export()})
    assert RawMatcher(HASHER).scan(SAMPLE) == expected


def test_databases_have_the_same_key_in_every_process() -> None:
    """Workers are spawned with their own string hash seed: a pattern set written in set order
    got another key there, and each worker compiled the keyword database again (0.4 s each)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json\n"
        "from scanners.engines import hyperscan\n"
        "from scanners.fastpath import RawMatcher\n"
        "from scanners.findings import ValueHasher\n"
        "RawMatcher(ValueHasher(b'k' * 32))\n"
        "print(json.dumps(sorted(hyperscan._DATABASES)))\n"
    )
    keys = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, hyperscan.CACHE_ENV: ""}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        keys.append(json.loads(out.stdout))
    assert keys[0] == keys[1] == keys[2]


def test_compiled_databases_are_kept_on_disk_and_checked(
    empty_cache, monkeypatch, tmp_path
) -> None:
    import hyperscan as library

    monkeypatch.setenv(hyperscan.CACHE_ENV, str(tmp_path))
    expected = RawMatcher(HASHER).scan(SAMPLE)
    files = sorted((tmp_path / "hyperscan").glob("*.hsdb"))
    assert len(files) == len(export())

    hyperscan._DATABASES.clear()  # a new process: loads them, compiles nothing
    compile_for_real = library.Database

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the database was on disk")

    compile_in_c = hyperscan._hs.compile if hyperscan._hs is not None else None
    _forbid_compiling(monkeypatch, no_compiling)
    assert RawMatcher(HASHER).scan(SAMPLE) == expected

    # A cut or altered file is not loaded: compiled afresh and replaced.
    damaged = files[0].read_bytes()
    files[0].write_bytes(damaged[:-100])
    hyperscan._DATABASES.clear()
    monkeypatch.setattr(library, "Database", compile_for_real)
    if compile_in_c is not None:
        monkeypatch.setattr(hyperscan._hs, "compile", compile_in_c)
    assert RawMatcher(HASHER).scan(SAMPLE) == expected
    assert files[0].read_bytes() == damaged

    monkeypatch.setenv(hyperscan.CACHE_ENV, "")  # no cache kept
    assert hyperscan._cache_dir() is None


def test_a_database_planted_in_a_shared_cache_is_not_loaded(empty_cache, monkeypatch, tmp_path):
    """Attack: another user replaces a cached database (hash header and all) with one that
    matches nothing. Loading it made every scan report a clean drive."""
    import hashlib
    import os

    import hyperscan as library

    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv(hyperscan.CACHE_ENV, str(shared))
    expected = RawMatcher(HASHER).scan(SAMPLE)
    assert expected
    nothing = library.Database(mode=library.HS_MODE_BLOCK)
    nothing.compile(expressions=[b"\xfe\xfd never"], ids=[0], elements=1, flags=[0])
    blob = library.dumpb(nothing)
    folder = shared / "hyperscan"
    for path in folder.glob("*.hsdb"):
        path.write_bytes(hashlib.sha256(blob).digest() + blob)
    # The folder open to everyone, or the file another user's: neither is loaded.
    for make_unsafe in (
        lambda: folder.chmod(0o777),
        lambda: [os.chown(p, 65534, 65534) for p in folder.glob("*.hsdb")],
    ):
        folder.chmod(0o700)
        make_unsafe()
        hyperscan._DATABASES.clear()
        assert RawMatcher(HASHER).scan(SAMPLE) == expected
