"""A raw-pass data page is matched a piece at a time, and not inside files the file pass decodes."""

from __future__ import annotations

import random
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from scanners import pagescan
from scanners.fastpath import RawMatcher
from scanners.places import LIVE, ExtentMap, Place
from scanners.raw import RawOptions, scan_raw
from scanners.sqliterecords import text_fields
from scanners.target import Target
from tests.scanners.documents import email, personnummer
from tests.scanners.images import MiB

PAGE = 4 * MiB
OPTIONS = RawOptions(page_size=PAGE, margin=4096)


def glued_db(path: Path, rows: int) -> bytes:
    """A SQLite table whose personnummer and e-mail columns lie back to back on the medium."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE kund (id INTEGER PRIMARY KEY, pnr TEXT, epost TEXT)")
    conn.executemany(
        "INSERT INTO kund (pnr, epost) VALUES (?, ?)",
        [(personnummer(i).replace("-", ""), email(i)) for i in range(500, 500 + rows)],
    )
    conn.commit()
    conn.close()
    return path.read_bytes()


def mixed_image(tmp_path: Path) -> Path:
    """Values at random places (some across every 64 KiB line), and a glued SQLite table."""
    rng = random.Random(5)
    data = bytearray(2 * PAGE + 12345)
    for i in range(3000):
        value = f" {personnummer(i)} {email(i)} +46 70 {i % 1000:03d} {i % 100:02d} 17 ".encode()
        at = rng.randrange(0, len(data) - 80) if i % 3 else (i * 65536 - 20) % (len(data) - 80)
        data[at : at + len(value)] = value
    db = glued_db(tmp_path / "app.sqlite", 400)
    data[PAGE - 69632 : PAGE - 69632 + len(db)] = db  # sector-aligned, across page and piece edges
    path = tmp_path / "mixed.img"
    path.write_bytes(data)
    return path


def tally_of(path: Path, hasher, options: RawOptions = OPTIONS):
    with Target(path) as target:
        return scan_raw(target, RawMatcher(hasher), options)


@pytest.mark.parametrize("piece", [4096, 65536 + 123, 1 * MiB])
def test_pieces_count_exactly_as_whole_pages(tmp_path, hasher, monkeypatch, piece) -> None:
    path = mixed_image(tmp_path)
    monkeypatch.setattr(pagescan, "PIECE", 1 << 40)
    whole = tally_of(path, hasher).tally
    monkeypatch.setattr(pagescan, "PIECE", piece)
    pieces = tally_of(path, hasher).tally
    assert whole.counts["personnummer"] > 2900  # some planted values overwrite others
    # The glued table is read as SQLite records (so the pieces meet `Records` across edges).
    data = path.read_bytes()
    assert len(text_fields(data, 0, PAGE - 69632, PAGE + 65536)) >= 400
    assert pieces.counts == whole.counts
    assert pieces.by_offset == whole.by_offset
    for category, digests in whole.digests.items():
        assert pieces.digests[category] == digests, category


def test_a_dense_page_s_findings_are_not_all_held_at_once(tmp_path, hasher) -> None:
    """A page of dense documents (221,000 values in 4 MiB) held all its findings and their
    candidates at once: a peak of 19 times the page's size. A piece at a time, 5.7 times, most
    of it the tally's digests of the page's values."""
    rng = random.Random(9)
    text = bytearray()
    count = 0
    while len(text) < PAGE:
        i = rng.randrange(10**6)
        text += (
            f"{personnummer(i % 9000)};{email(i)};070-{i % 1000:03d} {i % 100:02d} 17\n".encode()
        )
        count += 1
    path = tmp_path / "dense.img"
    path.write_bytes(bytes(text[:PAGE]))
    tracemalloc.start()
    try:
        result = tally_of(path, hasher, RawOptions(page_size=PAGE, margin=4096, workers=1))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.tally.counts["email"] >= count - 1
    assert peak < 7 * PAGE, peak


def test_files_the_file_pass_decodes_are_not_matched(tmp_path, hasher) -> None:
    path = mixed_image(tmp_path)
    csv = (1 * MiB, 3 * MiB + 777)  # a CSV with a personnummer column, say

    def mapped(decoded: bool) -> tuple[object, list[int], int]:
        extents = ExtentMap()
        extents.add(*csv, Place(LIVE, "/kunder.csv", decoded=decoded))
        extents.add(csv[1], csv[1] + 5000, Place(LIVE, "/notes.txt"))
        extents.freeze()
        matched: list[int] = []

        class Counting(RawMatcher):
            def scan_records(self, data, base_offset=0):
                matched.append(len(data))
                return super().scan_records(data, base_offset)

        options = RawOptions(page_size=PAGE, margin=4096, workers=1, locator=extents)
        with Target(path) as target:
            return scan_raw(target, Counting(hasher), options), matched, target.size

    left, matched, size = mapped(decoded=True)
    plain, _, _ = mapped(decoded=False)
    # The decoded file's bytes are left to the file pass: only the context of the pieces
    # around it (and the SQLite fields matched again one by one) are read twice.
    assert left.stats["bytes_left_to_file_pass"] == csv[1] - csv[0]
    assert 0 < sum(matched) < size - (csv[1] - csv[0]) + 200_000
    # Everything outside it counts as when the raw pass matched the file and gave way.
    in_csv = {c: n for (c, f, _), n in plain.tally.by_file.items() if f == "/kunder.csv"}
    assert in_csv["personnummer"] > 0
    for category, n in plain.tally.counts.items():
        assert left.tally.counts[category] == n - in_csv.get(category, 0), category
    assert left.tally.by_offset == plain.tally.by_offset
    assert left.tally.by_file == {
        k: n for k, n in plain.tally.by_file.items() if k[1] != "/kunder.csv"
    }
    assert not left.tally.given_way


def test_pieces_count_exactly_as_whole_pages_in_mixed_encodings_and_random_bytes(
    tmp_path, hasher, monkeypatch
) -> None:
    """Stretches of UTF-16LE text, 8-bit text and random bytes, of 1 to 300 KB, with keyword-gated
    values: a piece can be judged UTF-16 where its page is not, and the other way round."""
    rng = random.Random(3)
    data = bytearray(rng.randbytes(2 * PAGE + 777))
    at = i = 0
    while at < len(data) - 200:
        kind, n, chunk = (
            rng.choice(["utf-16-le", "latin-1", "random"]),
            rng.randrange(1000, 300_000),
            bytearray(),
        )
        while len(chunk) < n:
            i += 1
            line = rng.choice(
                [
                    f"Kund {personnummer(i % 5000)} mejl {email(i)} tel 070-{i % 1000:03d} 17 17. ",
                    f"personnummer: {personnummer(i % 5000).replace('-', '')} kontonr {i} ",
                    f"Bankgiro {1000 + i % 9000}-{1000 + i % 9000} org.nr 556{i % 1000:03d}-1234 ",
                ]
            )
            chunk += rng.randbytes(len(line)) if kind == "random" else line.encode(kind)
        chunk = chunk[: len(data) - at]
        data[at : at + len(chunk)] = chunk
        at += len(chunk)
    path = tmp_path / "encodings.img"
    path.write_bytes(data)
    options = RawOptions(page_size=PAGE, workers=1)
    monkeypatch.setattr(pagescan, "PIECE", 1 << 40)
    whole = tally_of(path, hasher, options).tally
    monkeypatch.setattr(pagescan, "PIECE", 12289)
    pieces = tally_of(path, hasher, options).tally
    assert whole.counts["personnummer"] > 10_000
    assert whole.counts["bankgiro"] > 0
    assert pieces.counts == whole.counts
    assert pieces.by_offset == whole.by_offset
    for category, digests in whole.digests.items():
        assert pieces.digests[category] == digests, category
