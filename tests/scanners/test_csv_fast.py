"""The whole-text CSV path gives what csv.reader and `table_items` give, or steps aside.

The oracle is Python's own csv module: every table the fast path takes must come out exactly
as the reader's rows through `table_items`; every table it cannot split exactly (quotes,
carriage returns, NULs, rows of another length, blank lines, a field over csv's size limit,
two personnummer columns) must be left to the reader.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from scanners.formats import Budget, Extracted, Limits, tables
from scanners.formats.plain import decode, extract_text
from scanners.formats.tables import csv_header, csv_table_items, table_items

# Characters that split, quote or end CSV fields, next to ordinary ones and a few that
# str.strip, str.isdigit and regular expressions treat differently (NBSP, superscript two,
# an Arabic-Indic digit, the file separator).
SPECIAL = [",", ";", "|", "\t", "\n", "\r", '"', "\x00", "\x1c"]
ORDINARY = ["a", "b", " ", "1", "2", "9", "0", "-", "é", "\xa0", "²", "٣"]


def reader_items(text: str) -> list[Extracted]:
    """What `extract_text` gave before the fast path: the reader's rows, or the plain text."""
    header = csv_header(text)
    assert header is not None
    delimiter, columns = header
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]
    except csv.Error:
        return [Extracted("t.csv", text=text)]
    return list(table_items("t.csv", columns, rows))


def random_table(rnd: random.Random) -> str:
    delimiter = rnd.choice(["\t", ";", ",", "|"])
    n = rnd.randint(1, 6)
    names = [rnd.choice(["id", "namn", "epost", "telefon", "ort"]) for _ in range(n)]
    for _ in range(rnd.choice([1, 1, 1, 2])):
        names[rnd.randrange(n)] = rnd.choice(["personnummer", "Pnr", "person_nr", "SSN"])
    lines = [delimiter.join(names)]
    for _ in range(rnd.randint(1, 8)):
        width = n if rnd.random() < 0.85 else rnd.randint(0, n + 2)
        lines.append(delimiter.join(random_cell(rnd, delimiter) for _ in range(width)))
    return "\n".join(lines) + rnd.choice(["", "\n", "\n\n", "\r\n"])


def random_cell(rnd: random.Random, delimiter: str) -> str:
    kind = rnd.random()
    if kind < 0.3:
        return str(rnd.randint(10**8, 10**10))
    if kind < 0.4:
        return f" {rnd.randint(10**8, 10**9 - 1)} "  # nine digits: a lost leading zero
    if kind < 0.5:
        return ""
    alphabet = ORDINARY + SPECIAL if rnd.random() < 0.1 else ORDINARY
    cell = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6)))
    return cell.replace(delimiter, "")


@pytest.fixture(params=["c", "python"])
def cut_in(request, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Tables cut by `_hot.csv_column` where built, and by `_cut_column` (no C extension)."""
    if request.param == "c" and tables._hot is None:
        pytest.skip("scanners._hot is not built")
    if request.param == "python":
        monkeypatch.setattr(tables, "_hot", None)
    return request.param


def test_random_tables_come_out_as_the_reader_gives_them(cut_in: str) -> None:
    rnd = random.Random(2026)
    tried = taken = 0
    positions: set[str] = set()
    for _ in range(6000):
        text = random_table(rnd)
        header = csv_header(text)
        if header is None:
            continue
        tried += 1
        fast = csv_table_items("t.csv", text, *header)
        if fast is None:
            continue
        taken += 1
        assert fast == reader_items(text), repr(text)
        columns = header[1]
        pnr = next(i for i, name in enumerate(columns) if name in {"personnummer", "Pnr",
                                                                   "person_nr", "SSN"})  # fmt: skip
        positions.add("first" if pnr == 0 else "last" if pnr == len(columns) - 1 else "middle")
    # Both paths are exercised, and the column in every position the fast path cuts.
    assert tried > 3000
    assert 500 < taken < tried
    assert positions == {"first", "middle", "last"}


@pytest.mark.parametrize(
    "text",
    [
        'personnummer;namn\n"8112189876";Anna\n',  # quoted
        "personnummer;namn\r\n8112189876;Anna\r\n",  # CRLF
        "personnummer;namn\n8112189876;An\x00na\n",  # NUL: the reader fails, plain text
        "personnummer;namn\n8112189876;Anna;extra\n",  # a longer row
        "personnummer;namn\n8112189876\n",  # a shorter row
        "personnummer;namn\n\n8112189876;Anna\n",  # a blank line (the reader's empty row)
        "personnummer;pnr;namn\n8112189876;8112189876;Anna\n",  # two personnummer columns
        "personnummer;namn\n8112189876;" + "x" * 131073 + "\n",  # over csv's field limit
    ],
)
def test_tables_it_cannot_split_exactly_go_to_the_reader(text: str, cut_in: str) -> None:
    assert csv_table_items("t.csv", text, *csv_header(text)) is None
    if decode(text.encode()) == text:  # a NUL makes the file binary before it is a table
        budget = Budget(Limits())
        assert list(extract_text("t.csv", text.encode(), 0, budget)) == reader_items(text)


def test_a_field_at_csvs_size_limit_is_still_a_table(cut_in: str) -> None:
    text = "personnummer;namn\n 811218987 ;" + "x" * 131072 + "\n"
    items = csv_table_items("t.csv", text, *csv_header(text))
    assert items == reader_items(text)
    assert items[1].text == "personnummer 0811218987"


# Every Latin-1 character str.strip or str.isdigit treats apart, and the delimiters.
LATIN1 = [chr(c) for c in range(256) if chr(c).isspace() or chr(c).isdigit()] + [
    ",",
    ";",
    "|",
    "a",
    "\xe9",
    "-",
    "\xff",
    "\x80",
]


def test_the_c_cut_is_the_python_cut() -> None:
    """`_hot.csv_column` against `_cut_column` on 20,000 fuzzed Latin-1 tables: cells of every
    character str.strip and str.isdigit take apart (NBSP, NEL, the file separators, superscript
    digits), nine-character values, blank values, rows of another length, the column in
    every place, and lines at, under and over a small field limit."""
    if tables._hot is None:
        pytest.skip("scanners._hot is not built")
    rnd = random.Random(88)
    outcomes = {"cut": 0, "not a table": 0, "too long": 0}
    for _ in range(20_000):
        d = rnd.choice(["\t", ";", ",", "|"])
        n = rnd.randint(2, 6)
        k = rnd.randrange(n)
        lines = []
        for _ in range(rnd.randint(1, 8)):
            width = n if rnd.random() < 0.95 else rnd.randint(1, n + 2)
            cells = ["".join(rnd.choice(LATIN1) for _ in range(rnd.choice([0, 1, 9, 9, 11])))
                     for _ in range(width)]  # fmt: skip
            lines.append(d.join(c.replace(d, "").replace("\n", "") for c in cells))
        table = "\n".join(lines) + "\n"
        limit = rnd.choice([8, 12, 20, 131072])
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csv, "field_size_limit", lambda limit=limit: limit)
            python = tables._cut_column(table, d, n, k)
        got = tables._hot.csv_column(table, d, n, k, limit, tables.KEYWORD)
        if got is None:  # a line over the limit: Python decides
            assert max(map(len, table.split("\n"))) > limit
            outcomes["too long"] += 1
        elif got is False:
            assert python is None, repr(table)
            outcomes["not a table"] += 1
        else:
            assert got == python, repr(table)
            outcomes["cut"] += 1
    assert min(outcomes.values()) > 1000, outcomes


def test_the_c_cut_leaves_wider_text_to_python() -> None:
    if tables._hot is None:
        pytest.skip("scanners._hot is not built")
    table = "id;personnummer\n1;811218-9876\u2028\n"
    assert tables._hot.csv_column(table, ";", 2, 1, 131072, tables.KEYWORD) is None
    assert tables._cut_column(table, ";", 2, 1) == ("1", "personnummer 811218-9876")


def test_latin1_tables_through_the_c_cut_come_out_as_the_reader_gives_them() -> None:
    """Every Latin-1 character but the newline, the carriage return and the quote in cells (so
    the C cut takes the table), personnummer padded with NEL, NBSP, the unit separator or a
    vertical tab: csv.reader through `table_items` is the oracle. Tried: 6,000 tables."""
    rnd = random.Random(5)
    chars = [chr(c) for c in range(1, 256) if c not in (0x0A, 0x0D, 0x22)]
    taken = 0
    for _ in range(6000):
        d = rnd.choice(["\t", ";", ",", "|"])
        n = rnd.randint(2, 5)
        names = [rnd.choice(["id", "namn", "epost"]) for _ in range(n)]
        names[rnd.randrange(n)] = "personnummer"
        lines = [d.join(names)]
        for _ in range(rnd.randint(1, 6)):
            cells = []
            for _ in range(n if rnd.random() < 0.9 else rnd.randint(1, n + 1)):
                if rnd.random() < 0.3:
                    number = str(rnd.randint(10**8, 10**10))
                    cells.append(
                        rnd.choice(["", " ", "\x85"])
                        + number
                        + rnd.choice(["", "\xa0", "\x1f", "\x0b"])
                    )
                else:
                    cells.append("".join(rnd.choice(chars) for _ in range(rnd.randint(0, 9))))
            lines.append(d.join(cell.replace(d, "") for cell in cells))
        text = "\n".join(lines) + rnd.choice(["", "\n"])
        header = csv_header(text)
        if header is None:
            continue
        fast = csv_table_items("t.csv", text, *header)
        if fast is not None:
            taken += 1
            assert fast == reader_items(text), repr(text)
    assert taken > 4000
