"""Reading a customer's asset list into rows of text: CSV, XLSX or ODS, told apart by content.

CSV comes in whatever the customer's spreadsheet wrote: UTF-8 with or without a byte-order
mark, UTF-16 (Excel's "Unicode text"), or Windows-1252 (Excel on a Swedish Windows), separated
by commas, semicolons (Excel's CSV where the decimal mark is a comma) or tabs. The encoding is
decided strictly (a byte that does not decode refuses the file rather than turning into a
replacement character), since the values are identities to match barcodes against.

Spreadsheets are zip archives; their unpacked size is checked before a parser sees them, so a
small file cannot unpack into gigabytes of XML.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from asset_pipeline.errors import ManifestError
from asset_pipeline.evidence.privacy import MAX_STRING

MAX_FILE_BYTES = 32 << 20
MAX_UNPACKED_BYTES = 256 << 20
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELL = MAX_STRING  # characters, as in the evidence; longer cells are refused, not cut

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")  # bytes cp1252 leaves undefined
_DELIMITERS = ",;\t"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True, slots=True)
class Sheet:
    """The cells of a list as text, with how the file was read."""

    file_format: str  # csv | xlsx | ods
    # (row number in the file, cells) for every row that is not blank; the first rows may be
    # a title above the header, which `importer` finds.
    rows: list[tuple[int, list[str]]]
    encoding: str = ""  # csv only
    delimiter: str = ""  # csv only


def read_sheet(data: bytes) -> Sheet:
    """Read an asset list from its bytes.

    Raises:
        ManifestError: too large, an unknown or damaged format, or text in no common encoding.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ManifestError(f"the file is {len(data)} bytes; at most {MAX_FILE_BYTES} are read")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ManifestError("old Excel (.xls) files are not read; save the list as .xlsx or CSV")
    if data.startswith(b"PK\x03\x04"):
        return _read_zip(data)
    encoding, text = decode_text(data)
    return _read_csv(text, encoding)


def decode_text(data: bytes) -> tuple[str, str]:
    """(encoding, text) of a CSV file: BOM, else UTF-16 by its zero bytes, UTF-8, cp1252.

    Raises:
        ManifestError: binary data, or bytes no candidate encoding decodes.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, _strict(data, encoding)
    sample = data[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > 0.9 * len(sample[1::2]):
        return "utf-16-le", _strict(data, "utf-16-le")
    if len(sample) >= 4 and sample[0::2].count(0) > 0.9 * len(sample[0::2]):
        return "utf-16-be", _strict(data, "utf-16-be")
    if b"\x00" in sample:
        raise ManifestError("the file is neither CSV text nor an XLSX or ODS spreadsheet")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    encoding = "cp1252" if _CP1252_HOLES.isdisjoint(data) else "latin-1"
    return encoding, _strict(data, encoding)


def _strict(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise ManifestError(f"the file is not valid {encoding} text at byte {e.start}") from e
    return text.removeprefix("\ufeff")


def _read_csv(text: str, encoding: str) -> Sheet:
    delimiter = _delimiter(text)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            _add_row(rows, reader.line_num, record)
    except csv.Error as e:
        raise ManifestError(f"the CSV cannot be read at line {len(rows) + 1}: {e}") from e
    return Sheet("csv", rows, encoding=encoding, delimiter=delimiter)


def _delimiter(text: str) -> str:
    """The separator that splits the most of the first lines into the same number of cells.

    csv.Sniffer guesses from character frequencies and is thrown by a title line above the
    header or by commas inside values; parsing with each candidate and counting how many lines
    agree on one width (more than one cell) is what a person checks by eye.
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", (0, 0)
    for candidate in _DELIMITERS:
        widths = Counter(len(row) for row in csv.reader(lines, delimiter=candidate))
        width, rows = max(widths.items(), key=lambda item: (item[1], item[0]), default=(0, 0))
        score = (rows, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _read_zip(data: bytes) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
        mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError) as e:
        raise ManifestError(f"the spreadsheet is damaged: {e}") from e
    if unpacked > MAX_UNPACKED_BYTES:
        raise ManifestError(
            f"the spreadsheet unpacks to {unpacked} bytes; at most {MAX_UNPACKED_BYTES} are read"
        )
    if mimetype == _ODS_MIMETYPE:
        return Sheet("ods", _read_ods(data))
    if "xl/workbook.xml" in names:
        return Sheet("xlsx", _read_xlsx(data))
    raise ManifestError("the zip file is neither an XLSX nor an ODS spreadsheet")


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # loaded only for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise ManifestError(f"the XLSX file cannot be read: {e}") from e
    try:
        rows: list[tuple[int, list[str]]] = []
        # The first sheet is the list; customers keep notes and lookups on later sheets.
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
            _add_row(rows, number, [cell_text(v) for v in values[: MAX_COLUMNS + 1]])
        return rows
    finally:
        book.close()


def _read_ods(data: bytes) -> list[tuple[int, list[str]]]:
    from odf.opendocument import load  # loaded only for spreadsheets
    from odf.table import Table, TableCell, TableRow

    try:
        document = load(io.BytesIO(data))
    except Exception as e:  # odfpy raises whatever its XML and zip layers raise
        raise ManifestError(f"the ODS file cannot be read: {type(e).__name__}") from e
    tables = document.spreadsheet.getElementsByType(Table)
    if not tables:
        raise ManifestError("the ODS file holds no sheet")
    rows: list[tuple[int, list[str]]] = []
    number = 0
    for row in tables[0].getElementsByType(TableRow):
        cells: list[str] = []
        for cell in row.getElementsByType(TableCell):
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            text = _ods_cell(cell)
            # A sheet ends its rows with one cell "repeated" to the last column: stop there.
            cells += [text] * min(repeat, MAX_COLUMNS + 1 - len(cells))
            if len(cells) > MAX_COLUMNS:
                break
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        if any(cells):  # blank rows (often repeated a million times) carry nothing
            for i in range(1, min(repeat, MAX_ROWS + 1) + 1):
                _add_row(rows, number + i, cells)
        number += repeat
    return rows


def _ods_cell(cell: Any) -> str:
    kind = cell.getAttribute("valuetype")
    if kind in ("float", "percentage", "currency"):
        return cell_text(float(cell.getAttribute("value")))
    if kind == "date":
        return str(cell.getAttribute("datevalue"))[:10]
    if kind == "boolean":
        return str(cell.getAttribute("booleanvalue")).lower()
    paragraphs = [p for p in cell.childNodes if getattr(p, "qname", ("", ""))[1] == "p"]
    return "\n".join(str(p) for p in paragraphs)


def cell_text(value: object) -> str:
    """A spreadsheet value as the text a person reads in the cell (12345.0 -> "12345")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _add_row(rows: list[tuple[int, list[str]]], number: int, cells: list[str]) -> None:
    cleaned = [c.strip() for c in cells]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if not cleaned:
        return
    if len(rows) >= MAX_ROWS:
        raise ManifestError(f"the list has more than {MAX_ROWS} rows")
    if len(cleaned) > MAX_COLUMNS:
        raise ManifestError(f"row {number} has more than {MAX_COLUMNS} columns")
    for column, cell in enumerate(cleaned, 1):
        if len(cell) > MAX_CELL:
            raise ManifestError(
                f"row {number}, column {column} holds {len(cell)} characters (at most {MAX_CELL})"
            )
    rows.append((number, cleaned))
