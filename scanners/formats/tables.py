"""Tables (SQLite tables, CSV/TSV, XLSX and ODS sheets) as text, with column names as context.

A bare ten-digit `8112189876` counts as a personnummer only beside a keyword, and in a table the
keyword is the column's name, often far above the value. So the values of a column whose name
says personnummer are given as their own text, each behind the keyword, apart from the other
columns (whose values must not borrow that context: a phone number in the next column stays a
phone number). The other columns keep their rows, as before.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat

from scanners.formats import Extracted
from scanners.hot import compiled as _hot

# Column names that say personnummer, after camelCase and _-. are split into words.
_PNR_COLUMN = re.compile(
    r"\b(?:pnr|personnr|persnr|pers nr|personnummer|personnumer|f[öo]delsenummer|ssn"
    r"|personal identity number|personal id number|samordningsnummer)\b"
)
_CAMEL = re.compile(r"(?<=[a-zåäö])(?=[A-ZÅÄÖ])")
_SEPARATORS = re.compile(r"[_\-.:#/]+|\s+")
KEYWORD = "personnummer"
_CSV_SPECIAL = ('"', "\r", "\x00")  # quoting, old Mac lines, NUL: csv.reader's own cases


# Every name `_PNR_COLUMN` takes holds one of these once lowered (the word splitting only puts
# spaces between letters): a first line without them needs no regular expressions.
PNR_WORD_PARTS = ("pnr", "pers", "ssn", "nummer")


def is_pnr_column(name: str) -> bool:
    """Whether a column's name says it holds personnummer (any case, any word separator)."""
    lowered = name.lower()
    if not any(part in lowered for part in PNR_WORD_PARTS):
        return False  # the common case (the first line of any text file): four C searches
    words = _SEPARATORS.sub(" ", _CAMEL.sub(" ", name)).strip().lower()
    return _PNR_COLUMN.search(words) is not None


def table_items(
    path: str, columns: Sequence[str], rows: Iterable[Sequence[str]]
) -> Iterator[Extracted]:
    """The table's text: rows of the other columns, then each personnummer column's values."""
    keyed = [i for i, name in enumerate(columns) if is_pnr_column(name)]
    plain = [i for i in range(len(columns)) if i not in keyed]
    lines = ["\t".join(columns[i] for i in plain)]
    values: list[str] = []
    for row in rows:
        lines.append("\t".join(row[i] for i in plain if i < len(row)))
        for i in keyed:
            if i < len(row) and row[i].strip():
                values.append(f"{KEYWORD} {_digits(row[i])}")
    yield Extracted(path, text="\n".join(lines))
    if values:
        yield Extracted(path, text="\n".join(values))


def _digits(value: str) -> str:
    # A personnummer kept as a number loses the leading zero of years 2000-2009.
    value = value.strip()
    return value.zfill(10) if value.isdigit() and len(value) == 9 else value


# --- CSV and TSV -----------------------------------------------------------------------------


def csv_header(text: str) -> tuple[str, list[str]] | None:
    """The delimiter and header of CSV/TSV text whose header names a personnummer column."""
    first, _, rest = text.partition("\n")
    first = first.rstrip("\r")
    if not rest.strip():
        return None
    for delimiter in ("\t", ";", ",", "|"):
        if delimiter in first:
            names = [c.strip().strip('"') for c in first.split(delimiter)]
            if any(_header_name(n) for n in names):
                return delimiter, names
    return None


def csv_table_items(
    path: str, text: str, delimiter: str, columns: Sequence[str]
) -> list[Extracted] | None:
    """`table_items` of a plain CSV in whole-text operations; None where that is not exact.

    Building the table row by row (csv.reader's lists, then a join and a check per cell) took
    0.13 s per 10 MB of the mixed bench's CSVs, 40 % of matching their bytes (0.30 s); this
    takes 0.055 s. A table without quotes, carriage returns or NULs, with one personnummer
    column and the header's number of cells on every line, splits exactly at its delimiters
    and newlines: the column is cut out and its values taken in one pass over the text in C
    (`_hot.csv_column`, 1 ns a byte), else (wider characters, no C extension) by regular
    expressions and splits (`_cut_column`, 5.5 ns). Anything else (None) takes the reader.
    """
    keyed = [i for i, name in enumerate(columns) if is_pnr_column(name)]
    n = len(columns)
    if len(keyed) != 1 or n < 2 or any(c in text for c in _CSV_SPECIAL):
        return None
    table = text if text.endswith("\n") else text + "\n"  # a last line without its newline
    k = keyed[0]
    cut = None
    if _hot is not None:
        cut = _hot.csv_column(table, delimiter, n, k, csv.field_size_limit(), KEYWORD)
    if cut is None:
        cut = _cut_column(table, delimiter, n, k)
    if not cut:
        return None
    rest, column = cut
    header = "\t".join(columns[i] for i in range(n) if i != k)
    items = [Extracted(path, text=header + "\n" + rest)]
    if column:
        items.append(Extracted(path, text=column))
    return items


def _cut_column(table: str, delimiter: str, n: int, k: int) -> tuple[str, str] | None:
    """`_hot.csv_column` in Python; None where a line does not hold `n` cells.

    The lines after the first without cell k (cells joined by tabs, no last newline), and
    cell k's values behind the keyword. The values are found by one regular expression and
    the column is cut out by another (or by deleting every (n-1)th piece of the text split at
    the delimiter).
    """
    if not _cells_on_every_line(table, delimiter, n):
        return None
    d = re.escape(delimiter)
    body = table[table.index("\n") + 1 :]
    if k == 0:
        values = re.findall(f"(?m)^([^{d}\n]*){d}", body)
        rest = re.sub(f"(?m)^[^{d}\n]*{d}", "", body).replace(delimiter, "\t")
    elif k == n - 1:
        values = re.findall(f"(?m){d}([^{d}\n]*)$", body)
        rest = re.sub(f"(?m){d}[^{d}\n]*$", "", body).replace(delimiter, "\t")
    else:  # row r's cell k is piece k + r(n-1): a row's last and next first cell are one piece
        pieces = body.split(delimiter)
        values = pieces[k :: n - 1]
        del pieces[k :: n - 1]
        rest = "\t".join(pieces)
    kept = _column_values(values)
    column = f"{KEYWORD} " + f"\n{KEYWORD} ".join(kept) if kept else ""
    return rest[:-1], column


def _cells_on_every_line(table: str, delimiter: str, n: int) -> bool:
    """Whether every line of `table` (ending in a newline) holds `n` cells, none too long.

    Too long is past `csv.field_size_limit`, where csv.reader fails. Counted line by line in
    C (`str.count` mapped over the lines): 2.7 ns a character on the mixed bench's CSVs, where
    one regular expression over the whole table took 6.6.
    """
    lines = table.split("\n")
    lines.pop()  # the empty piece after the last newline
    if set(map(str.count, lines, repeat(delimiter))) != {n - 1}:
        return False
    limit = csv.field_size_limit()
    if max(map(len, lines)) <= limit:
        return True
    d = re.escape(delimiter)  # a line past the limit (rare): is each of its cells within it?
    cell = f"[^{d}\n]{{0,{limit}}}+"
    return re.fullmatch(f"(?:{cell}(?:{d}{cell}){{{n - 1}}}\n)*+", table) is not None


def _column_values(values: list[str]) -> list[str]:
    """The non-blank values of a personnummer column as `table_items` gives them (`_digits`)."""
    stripped = [v.strip() for v in values]
    return ["0" + v if len(v) == 9 and v.isdigit() else v for v in stripped if v]


def _header_name(cell: str) -> bool:
    # A column name is short and holds no digits: "personnummer 530404-2111." in a line of prose
    # with a comma is a value beside its keyword, not a header.
    return len(cell) <= 40 and not any(ch.isdigit() for ch in cell) and is_pnr_column(cell)


# --- XLSX ------------------------------------------------------------------------------------

_XLSX_ROW = re.compile(rb"<row\b[^>]*>(.*?)</row>", re.S)
_XLSX_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_XLSX_REF = re.compile(rb'\br="([A-Z]+)\d*"')
_XLSX_TYPE = re.compile(rb'\bt="(\w+)"')
_XLSX_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_XLSX_SI = re.compile(rb"<si>(.*?)</si>", re.S)
_XML_TEXT = re.compile(rb"<t\b[^>]*>(.*?)</t>", re.S)
_TAG = re.compile(rb"<[^>]*>")


def shared_strings(xml: bytes) -> list[str]:
    """The shared string table of an XLSX workbook (rich-text runs joined)."""
    return [
        _unescape(b"".join(_XML_TEXT.findall(si)) or _TAG.sub(b"", si))
        for si in _XLSX_SI.findall(xml)
    ]


def xlsx_rows(sheet: bytes, strings: Sequence[str]) -> list[list[str]]:
    """The cells of an XLSX sheet, row by row, placed in their columns."""
    rows = []
    for row in _XLSX_ROW.findall(sheet):
        cells: list[str] = []
        for attrs, body in _XLSX_CELL.findall(row):
            ref = _XLSX_REF.search(attrs)
            col = _column_index(ref.group(1)) if ref else len(cells)
            kind = _XLSX_TYPE.search(attrs)
            value = _xlsx_value(kind.group(1) if kind else b"n", body or b"", strings)
            cells.extend([""] * (col + 1 - len(cells)))
            cells[col] = value
        rows.append(cells)
    return rows


def _xlsx_value(kind: bytes, body: bytes, strings: Sequence[str]) -> str:
    if kind == b"inlineStr":
        return _unescape(b"".join(_XML_TEXT.findall(body)))
    v = _XLSX_VALUE.search(body)
    raw = v.group(1) if v else b""
    if kind == b"s":
        try:
            return strings[int(raw)]
        except (ValueError, IndexError):
            return ""
    text = _unescape(raw)
    return text[:-2] if text.endswith(".0") else text  # 8112189876.0 from a float cell


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


# --- ODS -------------------------------------------------------------------------------------

_ODS_TABLE = re.compile(rb"<table:table\b[^>]*>(.*?)</table:table>", re.S)
_ODS_ROW = re.compile(rb"<table:table-row\b[^>]*>(.*?)</table:table-row>", re.S)
_ODS_CELL = re.compile(
    rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)",
    re.S,
)
_ODS_REPEAT = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_VALUE = re.compile(rb'office:value="([^"]*)"')
_ODS_PARA = re.compile(rb"<text:p\b[^>]*>(.*?)</text:p>", re.S)


def ods_tables(content: bytes) -> list[list[list[str]]]:
    """The sheets of an ODS document's content.xml, each as rows of cells."""
    sheets = []
    for table in _ODS_TABLE.findall(content):
        rows = []
        for row in _ODS_ROW.findall(table):
            cells: list[str] = []
            for attrs, body in _ODS_CELL.findall(row):
                paras = _ODS_PARA.findall(body or b"")
                value = _unescape(b"\n".join(_TAG.sub(b"", p) for p in paras))
                if not value:
                    number = _ODS_VALUE.search(attrs)
                    value = _unescape(number.group(1)) if number else ""
                repeat = _ODS_REPEAT.search(attrs)
                # Empty trailing cells repeat up to the sheet's 16384 columns: keep them short.
                count = min(int(repeat.group(1)), 64 if value else 1) if repeat else 1
                cells.extend([value] * count)
            rows.append(cells)
        sheets.append(rows)
    return sheets


def without_tables(content: bytes) -> bytes:
    """An ODF content.xml with its tables cut out (they are read by `ods_tables`)."""
    return _ODS_TABLE.sub(b"", content)


def _unescape(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", errors="replace"))


def header_and_rows(rows: list[list[str]]) -> tuple[list[str], list[list[str]]] | None:
    """The first non-empty row as the header, if it names a personnummer column."""
    for i, row in enumerate(rows):
        if any(cell.strip() for cell in row):
            if any(is_pnr_column(cell) for cell in row):
                return row, rows[i + 1 :]
            return None
    return None
