"""Reading asset lists: CSV in the encodings and separators spreadsheets write, XLSX, ODS."""

from __future__ import annotations

import io
import zipfile

import pytest
from intake_lists import HEADER, ROWS, csv_bytes, ods_bytes, xlsx_bytes

from asset_pipeline.errors import ManifestError
from asset_pipeline.intake.sheets import MAX_UNPACKED_BYTES, read_sheet


def cells(data: bytes) -> list[list[str]]:
    return [row for _, row in read_sheet(data).rows]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected_encoding"),
    [
        ("utf-8-sig", ";", "utf-8-sig"),  # Excel's "CSV UTF-8" on a Swedish Windows
        ("utf-8", ",", "utf-8"),
        ("cp1252", ";", "cp1252"),  # Excel's plain "CSV" on a Swedish Windows
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text": UTF-16 with BOM, tabs
        ("utf-16-le", "\t", "utf-16-le"),  # the same without a BOM
    ],
)
def test_csv_in_each_encoding_and_separator(encoding, delimiter, expected_encoding) -> None:
    sheet = read_sheet(csv_bytes(delimiter=delimiter, encoding=encoding))
    assert (sheet.file_format, sheet.encoding, sheet.delimiter) == (
        "csv",
        expected_encoding,
        delimiter,
    )
    trimmed = [row[:7] if not any(row[7:]) else row for row in ROWS]  # blank cells at the end
    assert [row for _, row in sheet.rows] == [HEADER, *trimmed]  # å, ä, ö intact


def test_a_title_line_and_commas_inside_values_do_not_fool_the_separator() -> None:
    sheet = read_sheet(csv_bytes(title="Tillgångslista, Åre kommun, 2026", delimiter=";"))
    assert sheet.delimiter == ";"
    assert sheet.rows[0] == (1, ["Tillgångslista, Åre kommun, 2026"])
    assert sheet.rows[1] == (3, HEADER)  # the blank line is skipped, numbering kept


def test_bytes_that_are_not_cp1252_or_utf8_are_read_as_latin1_not_replaced() -> None:
    data = "Inventarienummer;Serienummer\nINV-1;SN\x81Ä\n".encode("latin-1")
    assert cells(data)[1] == ["INV-1", "SN\x81Ä"]


def test_xlsx_made_with_openpyxl_reads_the_first_sheet_with_numbers_as_written() -> None:
    rows = [["INV-0010", 4711, "Skärm", 1.5, None, 4410.0]]
    got = cells(xlsx_bytes(["Inventarienummer", "Serienummer", "Typ", "Vikt", "Tom", "KS"], rows))
    assert got == [["Inventarienummer", "Serienummer", "Typ", "Vikt", "Tom", "KS"],
                   ["INV-0010", "4711", "Skärm", "1.5", "", "4410"]]  # fmt: skip


def test_ods_made_with_odfpy_with_a_million_repeated_blank_rows() -> None:
    rows = [["INV-0020", 90210.0, "Surfplatta"]]
    sheet = read_sheet(ods_bytes(["Inventarienummer", "Serienummer", "Typ"], rows))
    assert sheet.file_format == "ods"
    assert [r for _, r in sheet.rows] == [
        ["Inventarienummer", "Serienummer", "Typ"],
        ["INV-0020", "90210", "Surfplatta"],
    ]


def test_old_excel_is_refused_with_what_to_do() -> None:
    with pytest.raises(ManifestError, match=r"old Excel \(\.xls\) .* save the list as \.xlsx"):
        read_sheet(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)


def test_binary_data_is_not_taken_for_text() -> None:
    with pytest.raises(ManifestError, match="neither CSV text nor"):
        read_sheet(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20)


def test_a_damaged_spreadsheet_is_one_clear_error() -> None:
    data = xlsx_bytes()
    with pytest.raises(ManifestError, match="damaged|cannot be read"):
        read_sheet(data[: len(data) // 2])


def test_a_zip_bomb_is_refused_before_any_parser_unpacks_it() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        chunk = b" " * (1 << 20)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(MAX_UNPACKED_BYTES // len(chunk) + 1):
                sheet.write(chunk)
    data = out.getvalue()
    assert len(data) < 2 << 20  # a small file ...
    with pytest.raises(ManifestError, match="unpacks to"):  # ... that would unpack past the limit
        read_sheet(data)


def test_an_over_long_cell_is_refused_naming_row_and_column() -> None:
    data = csv_bytes(
        rows=[["INV-1", "SN1", "x" * 301]], header=["Inventarienummer", "Serienummer", "Not"]
    )
    with pytest.raises(ManifestError, match=r"row 2, column 3 holds 301 characters"):
        read_sheet(data)


def test_undecodable_utf16_is_refused_not_replaced() -> None:
    data = (
        "\ufeffInventarienummer\tSerienummer\n".encode("utf-16-le") + b"\x00\xd8"
    )  # lone surrogate
    with pytest.raises(ManifestError, match="not valid utf-16"):
        read_sheet(b"\xff\xfe" + data[2:])
