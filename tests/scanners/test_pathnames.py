"""Values in file and folder names: counted once, and cut out of every path the scan reports."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import pytest

from scanners.scan import ScanOptions, scan
from tests.scanners.documents import personnummer
from tests.scanners.images import MiB, Volume, build_disk, make_fs

FOLDER_PNR = "410317-2450"  # the example
MEMBER_PNR = "811218-9876"
EMAIL = "anna.berg@example.se"
VALUES = (FOLDER_PNR, FOLDER_PNR.replace("-", ""), MEMBER_PNR, MEMBER_PNR.replace("-", ""), EMAIL)


@pytest.fixture(scope="module")
def named_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("names")
    src = root / "src"
    folder = src / f"Kund {FOLDER_PNR}"
    folder.mkdir(parents=True)
    (folder / "avtal.txt").write_text(f"Avtal med kund, personnummer {personnummer(3)}.\n")
    (folder / "faktura.txt").write_text("Faktura, inga personuppgifter.\n")
    mail = src / EMAIL
    mail.mkdir()
    with zipfile.ZipFile(mail / "arkiv.zip", "w") as z:
        z.writestr(f"kund {MEMBER_PNR}.txt", "Inga personuppgifter här.\n")
    fs = make_fs("ext4", root / "n.fs", 16 * MiB, src)
    disk = root / "names.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    return disk


def test_values_in_names_are_counted_once_and_redacted(named_disk: Path, hasher, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    report = scan(named_disk, hasher, ScanOptions(passes=("files",)))
    doc = report.to_dict()
    text = json.dumps(doc, ensure_ascii=False)
    for value in VALUES:
        assert value not in text
        assert value not in caplog.text
    # The folder's value once (not once per file in it), the member's, and the one in avtal.txt.
    assert doc["findings"]["personnummer"] == {"count": 3, "distinct": 3}
    assert doc["findings"]["email"] == {"count": 1, "distinct": 1}
    files = {loc["file"] for loc in doc["locations"]}
    assert files == {
        "partition 1:/Kund [personnummer]",
        "partition 1:/Kund [personnummer]/avtal.txt",
        "partition 1:/[email]",
        "partition 1:/[email]/arkiv.zip!kund [personnummer].txt",
    }


def test_the_combined_scan_holds_no_value_either(named_disk: Path, hasher) -> None:
    report = scan(named_disk, hasher)
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    for value in VALUES:
        assert value not in text
    assert report.findings["personnummer"].distinct == 3


def test_names_without_a_digit_at_or_colon_are_not_matched() -> None:
    """Names that cannot hold a value skip the matcher; names that can give what the matcher
    finds. Every value a raw pattern matches holds an ASCII digit, '@' or ':': 5,000 fuzzed
    names (the windows fuzz tokens: personnummer, cards, phones, IBANs, e-mail, IP addresses,
    giro numbers, addresses) through the redactor and through the matcher itself."""
    import random

    from scanners.fastpath import RawMatcher
    from scanners.findings import ValueHasher
    from scanners.pathnames import PathRedactor
    from tests.scanners.engines.test_windows import TOKENS

    matcher = RawMatcher(ValueHasher(b"k" * 32))
    calls = []

    class Counting:
        def scan(self, data: bytes, base: int = 0) -> list:
            calls.append(data)
            return matcher.scan(data, base)

    redactor = PathRedactor(Counting())
    rng = random.Random(5)
    found = 0
    for _ in range(5000):
        name = b"".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 4)))
        text = name.decode("utf-8", "replace").replace("/", "_").replace("!", "_")
        redacted, findings = redactor.redact(text)
        want = [f for f in matcher.scan(text.encode("utf-8", "surrogateescape")) if f.length]
        assert [f.digest for f, _ in findings] == [f.digest for f in want], text
        found += len(want)
    assert found > 2000
    calls.clear()
    assert (
        redactor.redact("usr/share/doc/libc-bin/copyright")[0] == "usr/share/doc/libc-bin/copyright"
    )
    assert calls == []
    assert redactor.redact("Kund 410317-2450.txt")[0] == "Kund [personnummer].txt"
    assert calls == [b"Kund 410317-2450.txt"]


def test_every_raw_pattern_needs_a_digit_at_or_colon() -> None:
    """The redactor skips names without an ASCII digit, '@' or ':' (`_MAY_HOLD_VALUE`): every
    8-bit pattern of the fast path, and every gated kind's value, must hold one of them in
    every match. Parsed, not checked by example, so a new kind without one fails here."""
    import re._parser as sre_parse

    from scanners.patterns import compile_kinds

    needed = set(b"0123456789@:")

    def must_hold(items: list) -> bool:
        """Whether every match of `items` holds a byte of `needed`."""
        for op, av in items:
            if op == sre_parse.LITERAL and av in needed:
                return True
            if op == sre_parse.IN and all(
                (kind == sre_parse.LITERAL and v in needed)
                or (kind == sre_parse.RANGE and set(range(v[0], v[1] + 1)) <= needed)
                for kind, v in av
            ):
                return True
            repeated = op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT) and av[0] >= 1
            if repeated and must_hold(list(av[2])):
                return True
            if op == sre_parse.SUBPATTERN and must_hold(list(av[3])):
                return True
            if op == sre_parse.BRANCH and all(must_hold(list(alt)) for alt in av[1]):
                return True
        return False

    kinds = [c for c in compile_kinds() if not c.wide]
    assert len(kinds) > 10
    for c in kinds:
        sources = [c.value_source] if c.kind.gate is not None else c.sources
        for source in sources:
            assert must_hold(list(sre_parse.parse(source))), (c.kind.name, source)
    assert not must_hold(list(sre_parse.parse("[A-Za-z]+(?:[0-9])?")))
    assert must_hold(list(sre_parse.parse("(?:a|b)?[a-z]+@x")))


def _fuzzed_names(seed: int, count: int) -> list[str]:
    """Names of the windows fuzz tokens, with text before and after in 8-bit and wider letters."""
    import random

    from tests.scanners.engines.test_windows import TOKENS

    rng = random.Random(seed)
    edges = ["", "", "Kund ", "åäö ", "ÅÄÖÉÜ", "x" * 200, "€€ ", "_", ".txt", " personnummer"]
    names = []
    for _ in range(count):
        core = b"".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 4)))
        text = core.decode("utf-8", "replace").replace("/", "_").replace("!", "_")
        names.append(rng.choice(edges) + text + rng.choice(edges))
    return names


def _prefiltered_against_alone(names: list[str]) -> tuple[int, int]:
    """Each name prefiltered 256 at a time against itself matched alone: a name with a
    candidate start of its own is never taken as clean, and every redaction is the same.
    Returns how many names had a start, and how many were taken as clean."""
    from scanners.fastpath import RawMatcher
    from scanners.findings import ValueHasher
    from scanners.pathnames import PathRedactor

    matcher = RawMatcher(ValueHasher(b"k" * 32))
    alone, together = PathRedactor(matcher), PathRedactor(matcher)
    started = cleaned = 0
    for at in range(0, len(names), 256):
        batch = names[at : at + 256]
        together.prefilter([f"dir/{name}" for name in batch])
        for name in batch:
            if len(matcher._start_keys(name.encode("utf-8", "surrogateescape"))):
                started += 1
                assert name not in together._clean, ascii(name)
            cleaned += name in together._clean
            assert together.redact(f"dir/{name}") == alone.redact(f"dir/{name}"), ascii(name)
    return started, cleaned


def test_names_matched_together_miss_no_name_with_a_start() -> None:
    """`prefilter` against each name matched alone: 6,000 fuzzed names (the windows fuzz
    tokens, wrapped in ASCII, Latin-1 and wider letters, keywords and long runs), prefiltered
    256 at a time. Every name with a candidate start of its own is left to be matched alone,
    and every name's redaction is the same as without the prefilter."""

    started, cleaned = _prefiltered_against_alone(_fuzzed_names(11, 6000))
    assert started > 3000  # both kinds of name were met
    assert cleaned > 500


def test_names_of_raw_bytes_matched_together_miss_no_start() -> None:
    """Attack: names as a file system gives them, not UTF-8 (Latin-1 letters, lone 0xFF and
    continuation bytes, control characters, read back surrogate-escaped), around
    personnummer, phone numbers, addresses and keywords: 4,000 names, prefiltered 256 at a
    time, against each matched alone."""
    import os
    import random

    pieces = [b"\xe5", b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xc3\xa5", b"\x01", b"\t", b" ",
              b"kund", b"personnummer", b"410317-2450", b"8112189876", b"19121212-1212",
              b"a@b.se", b"070-123 45 67", b"::1", b"192.168.0.1"]  # fmt: skip
    rng = random.Random(3)
    names = [
        os.fsdecode(b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))).replace(
            "/", "_"
        )
        for _ in range(4000)
    ]
    started, _ = _prefiltered_against_alone(names)
    assert started > 2000


def test_the_map_prefilters_names_and_places_files_as_before(
    named_disk: Path, hasher, monkeypatch
) -> None:
    """The map's places with names prefiltered equal those without, also where the walk
    breaks inside a batch (the entries before the break are mapped, then it is reported) and
    where the prefilter fails."""
    import scanners.extents
    from scanners.extents import map_target
    from scanners.fastpath import RawMatcher
    from scanners.pathnames import PathRedactor
    from scanners.places import Place
    from scanners.target import Target
    from tests.scanners.disks import breaking_walk

    def failing(paths: list[str]) -> None:
        raise MemoryError("no room to join the names")

    def places(prefiltered: bool, broken: bool = False) -> list[tuple[int, int, Place]]:
        redactor = PathRedactor(RawMatcher(hasher))
        prefilter = (failing if broken else redactor.prefilter) if prefiltered else None
        with Target(named_disk) as target:
            extents = map_target(
                target, decoded_by_files=True, redact=redactor.redact_only, prefilter=prefilter
            )
        return list(zip(extents._starts, extents._ends, extents._places, strict=True))

    whole = places(True)
    assert whole == places(False)
    assert whole == places(True, broken=True)  # a prefilter that fails only saves nothing
    assert {p.path for _, _, p in whole if p.path} >= {"partition 1:/Kund [personnummer]/avtal.txt"}
    monkeypatch.setattr(scanners.extents, "PREFILTER_BATCH", 3)
    assert places(True) == whole
    monkeypatch.setattr(scanners.extents, "walk", breaking_walk(scanners.extents.walk, 4))
    broken = places(True)
    assert broken == places(False)
    assert 0 < len(broken) < len(whole)
