"""Structured data: a column named for personnummer is context for every value in it.

SQLite, CSV/TSV, XLSX (openpyxl) and ODS (odfpy) files with a column of bare ten-digit
personnummer (`YYMMDDNNNC`, no separator: not enough structure alone), next to a phone column
whose ten-digit numbers must stay phone numbers. Written by the real libraries, walked from ext4.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from scanners import extents
from scanners.formats.tables import csv_header, is_pnr_column
from scanners.scan import ScanOptions, scan
from tests.scanners.documents import personnummer
from tests.scanners.images import MiB, Volume, build_disk, make_fs

N = 6
PNRS = [personnummer(40 + i).replace("-", "") for i in range(N)]  # bare ten digits
PHONES = [f"070{1234560 + i}" for i in range(N)]
EMAILS = [f"kund{i}.berg@example.se" for i in range(N)]
NAMES = [f"Anna Berg{i}" for i in range(N)]


def _rows() -> list[tuple[str, str, str, str]]:
    return list(zip(NAMES, PNRS, PHONES, EMAILS, strict=True))


def _sqlite(path: Path, column: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f'CREATE TABLE kund (namn TEXT, "{column}" TEXT, telefon TEXT, epost TEXT)')
    conn.executemany("INSERT INTO kund VALUES (?, ?, ?, ?)", _rows())
    conn.commit()
    conn.close()


def _csv(path: Path, delimiter: str, column: str) -> None:
    lines = [delimiter.join(("namn", column, "telefon", "epost"))]
    lines += [delimiter.join(row) for row in _rows()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _xlsx(path: Path, column: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["namn", column, "telefon", "epost"])
    for name, pnr, phone, email in _rows():
        sheet.append([name, int(pnr), phone, email])  # the personnummer typed as a number
    book.save(path)


def _ods(path: Path, column: str) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Kunder")
    for row in [("namn", column, "telefon", "epost"), *_rows()]:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


@pytest.fixture(scope="module")
def tables_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tables")
    src = root / "src"
    src.mkdir()
    _sqlite(src / "crm.sqlite", "pnr")
    _csv(src / "kunder.csv", ";", "Personnummer")
    _csv(src / "kunder.tsv", "\t", "födelsenummer")
    _xlsx(src / "kunder.xlsx", "SSN")
    _ods(src / "kunder.ods", "Personal identity number")
    fs = make_fs("ext4", root / "t.fs", 16 * MiB, src)
    disk = root / "tables.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)])
    return disk


FILES = ("crm.sqlite!kund", "kunder.csv", "kunder.tsv", "kunder.xlsx", "kunder.ods")


@pytest.fixture(scope="module")
def by_file(tables_disk: Path, hasher) -> dict[tuple[str, str], int]:
    report = scan(tables_disk, hasher, ScanOptions(passes=("files",)))
    assert report.not_scannable == ()
    return {
        (loc["category"], loc["file"].removeprefix("partition 1:/")): loc["count"]
        for loc in report.to_dict()["locations"]
    }


@pytest.mark.parametrize("name", FILES)
def test_values_in_a_personnummer_column_count(by_file, name: str) -> None:
    assert by_file.get(("personnummer", name)) == N
    assert by_file.get(("email", name)) == N  # the other columns as before
    assert by_file.get(("phone", name)) == N  # a phone beside the column stays a phone


@pytest.mark.parametrize(
    "name",
    [
        "pnr",
        "PNR",
        "kund_pnr",
        "kundPnr",
        "personnr",
        "Pers.nr",
        "persnr",
        "Personnummer",
        "FÖDELSENUMMER",
        "ssn",
        "Personal identity number",
        "personal_identity_number",
    ],
)
def test_column_names_that_say_personnummer(name: str) -> None:
    assert is_pnr_column(name)


@pytest.mark.parametrize("name", ["telefon", "snr", "pnrx", "kundnummer", "ordernr", "lessons"])
def test_column_names_that_do_not(name: str) -> None:
    assert not is_pnr_column(name)


def test_the_word_check_before_the_column_rule_never_turns_a_name_away() -> None:
    """`is_pnr_column` skips its regular expressions for a name without one of four word parts.

    The oracle is the rule without that check, on names built from the rule's own words in
    every case, split and glued by every separator, beside letters whose lower case is not
    ASCII (Kelvin sign, dotted capital I, long s) and Swedish capitals.
    """
    import random

    from scanners.formats import tables

    def by_the_rule_alone(name: str) -> bool:
        words = tables._SEPARATORS.sub(" ", tables._CAMEL.sub(" ", name)).strip().lower()
        return tables._PNR_COLUMN.search(words) is not None

    parts = ["pnr", "person", "nr", "pers", "nummer", "numer", "födelse", "fodelse", "ssn",
             "personal", "identity", "id", "number", "samordnings", "kund", "s", "n"]  # fmt: skip
    glue = ["", " ", "_", "-", ".", ":", "#", "/", "\t", "\u212a", "\u0130", "\u017f", "Ö", "é"]
    rnd = random.Random(18)
    said_yes = 0
    for _ in range(20000):
        name = "".join(rnd.choice(parts) + rnd.choice(glue) for _ in range(rnd.randint(1, 4)))
        name = "".join(c.upper() if rnd.random() < 0.3 else c for c in name)
        expected = by_the_rule_alone(name)
        assert is_pnr_column(name) == expected, name
        said_yes += expected
    assert said_yes > 1000  # the rule's own words were met, not only strangers


def test_prose_with_a_comma_is_not_taken_for_a_header() -> None:
    from scanners.formats import extract

    text = f"Avtal med kund, personnummer {personnummer(3)}.\nMvh Anna\n"
    [item] = extract("avtal.txt", text.encode())
    assert item.text == text


def test_raw_pass_does_not_glue_sqlite_fields_into_values(tmp_path: Path, hasher) -> None:
    # A user name right before the e-mail reads `annaanna@example.se` when the fields are glued
    # (the record header's byte before it can join too), and an e-mail right before a name was
    # not found at all. The database lies in unallocated space, 4 KiB aligned, as on a drive.
    from scanners.fastpath import RawMatcher

    db = tmp_path / "users.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE user (login TEXT, epost TEXT)")
    conn.execute("CREATE TABLE kontakt (epost TEXT, namn TEXT)")
    emails = [f"anna{i}@example.se" for i in range(N)]
    conn.executemany("INSERT INTO user VALUES (?, ?)", [(e.split("@")[0], e) for e in emails])
    conn.executemany("INSERT INTO kontakt VALUES (?, ?)", [(e, "Anna Berg") for e in emails])
    conn.commit()
    conn.close()
    disk = tmp_path / "glue.img"
    disk.write_bytes(bytes(MiB) + db.read_bytes() + bytes(MiB))
    raw = scan(disk, hasher, ScanOptions(passes=("raw",))).pass_results[0]
    matcher = RawMatcher(hasher)
    want = {f.digest for e in emails for f in matcher.scan(f" {e} ".encode())}
    got = raw.tally.digests["email"]
    assert len(got) == len(want)
    assert all(d in got for d in want)
    assert raw.tally.counts["email"] == 2 * N


def test_the_header_rule_tested_on_the_whole_line_first_decides_as_field_by_field() -> None:
    """`_names_pnr_column` rules a header line out by one test of the whole line before it
    tests each field; on 20,000 generated headers (column names that say personnummer in
    every spelling, camelCase, quotes, spaces, the four separators, words split across fields)
    it decides exactly as the file pass's rule (`csv_header`) on the line."""
    words = ["pnr", "Pnr", "kund", "Kund", "personnummer", "Pers", "nr", "pers nr", "ssn",
             "SSN", "födelsenummer", "fodelsenummer", "samordningsnummer", "namn", "e-post",
             "telefon", "personal identity number", "id", "kundPnr", "kund_pnr", "persNr",
             "personnr:", "#pnr", "pnrx", "xpnr", "\u00e5r", "Pers.Nr", "nummer"]  # fmt: skip
    rng = random.Random(11)
    said = 0
    for _ in range(20_000):
        sep = rng.choice([";", ",", "\t", "|", " "])
        fields = []
        for _ in range(rng.randint(1, 6)):
            name = "".join(rng.choice(words) for _ in range(rng.randint(1, 2)))
            fields.append(rng.choice(['"{}"', " {} ", "{}", "{}"]).format(name))
        line = sep.join(fields)
        by_field = csv_header(line + "\n1;2") is not None  # the file pass's own rule
        assert extents._names_pnr_column(line.encode() + b"\n1;2") == by_field, line
        said += by_field
    assert 2_000 < said < 18_000


def test_the_map_says_table_wherever_the_file_pass_may_in_any_encoding() -> None:
    """The map sees a head's bytes, the file pass the whole file's text in the encoding it
    picks: for 20,000 header lines with non-ASCII letters and digits (åäö, a superscript two,
    Arabic-Indic digits), long names and prose, written in UTF-8, cp1252, Latin-1 and UTF-16LE
    with and without a BOM, the map says "table" wherever the file pass finds one (a "no"
    would cost the column its context) and, for ASCII lines, only there."""
    from scanners.formats import plain

    words = ["pnr", "personnummer", "födelsenummer", "fodelsenummer", "namn", "kund",
             "Pers nr", "samordningsnummer", "belopp", "\u00b2", "\u0663", "7", " ",
             "personal identity number", "Åsa", "x" * 30, "e-post 070-1234567"]  # fmt: skip
    rng = random.Random(17)
    said = agreed_ascii = 0
    for _ in range(20_000):
        sep = rng.choice([";", ",", "\t", "|"])
        line = sep.join(
            "".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        )
        text = line + "\n" + "1" + sep + "2\n"
        for encoding in ("utf-8", "cp1252", "latin-1", "utf-16-le", "utf-16"):
            try:
                data = text.encode(encoding)
            except UnicodeEncodeError:
                continue
            decoded = plain.decode(data)
            files = decoded is not None and csv_header(decoded) is not None
            mapped = extents._names_pnr_column(data[: extents.HEAD])
            assert mapped or not files, (encoding, line)
            said += files
            if line.isascii() and encoding == "utf-8":
                assert mapped == files, line
                agreed_ascii += 1
    assert said > 5_000
    assert agreed_ascii > 1_000
