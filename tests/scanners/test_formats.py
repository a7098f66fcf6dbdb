"""Text extraction: encodings, office XML, RTF, HTML, mail, SQLite, nested archives and limits."""

from __future__ import annotations

import gzip
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest

from scanners import formats
from scanners.formats.document import rtf_text, xml_text
from scanners.formats.plain import decode
from tests.scanners.documents import docx, odf, pdf, personnummer, xlsx


def texts(path: str, data: bytes, limits: formats.Limits | None = None) -> list[formats.Extracted]:
    return list(formats.extract(path, data, budget=formats.Budget(limits or formats.Limits())))


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("Åsa Öberg".encode(), "Åsa Öberg"),
        ("\ufeffÅsa".encode("utf-8"), "Åsa"),
        ("\ufeffÅsa Öberg".encode("utf-16-le"), "Åsa Öberg"),
        ("\ufeffÅsa".encode("utf-16-be"), "Åsa"),
        ("Asa Oberg bor här".encode("utf-16-le"), "Asa Oberg bor här"),  # no BOM
        ("Åsa – Öberg".encode("cp1252"), "Åsa – Öberg"),
        (b"\xc5sa \x81", "Åsa \x81"),  # byte 0x81 is undefined in cp1252: Latin-1
    ],
)
def test_plain_text_encodings(encoded: bytes, expected: str) -> None:
    assert decode(encoded) == expected


def test_binary_is_not_text() -> None:
    assert decode(bytes(range(256)) * 4) is None


def test_word_runs_are_joined_and_paragraphs_split() -> None:
    xml = (
        b"<w:p><w:r><w:t>8112</w:t></w:r><w:r><w:t>28-9874</w:t></w:r></w:p>"
        b"<w:p><w:t>B &amp; C</w:t></w:p>"
    )
    assert xml_text(xml) == "811228-9874\nB & C\n"


def test_rtf_text_decodes_escapes_and_skips_font_tables() -> None:
    rtf = rb"{\rtf1\ansi{\fonttbl{\f0 Secret Font;}}\f0 K\'e5re \u8364? pnr\par 811228-9874}"
    assert rtf_text(rtf) == "Kåre € pnr\n811228-9874"


def test_html_text_keeps_mailto_and_drops_scripts() -> None:
    [item] = texts(
        "a.html",
        b"<html><script>var x='hidden';</script><p>Hej</p>"
        b"<a href='mailto:a@example.se'>mejla</a></html>",
    )
    assert "hidden" not in item.text
    assert "a@example.se" in item.text
    assert "Hej" in item.text


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("a.docx", docx(["Personnummer 811228-9874"]), "811228-9874"),
        ("a.xlsx", xlsx(["811228-9874"]), "811228-9874"),
        ("a.odt", odf(["811228-9874"], "application/vnd.oasis.opendocument.text"), "811228-9874"),
        ("a.pdf", pdf(["Personnummer 811228-9874"]), "811228-9874"),
    ],
)
def test_documents_give_their_text_under_their_own_path(
    name: str, data: bytes, needle: str
) -> None:
    items = texts(name, data)
    assert any(i.path == name and i.text and needle in i.text for i in items)


def test_sqlite_in_wal_mode_is_read_from_a_copy(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES ('811228-9874')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    [item] = texts("wal.db", data)
    assert item.path == "wal.db!t"
    assert "811228-9874" in item.text
    assert db.read_bytes() == data  # never touched


def test_nested_archives_stop_at_the_depth_limit() -> None:
    data = f"pnr {personnummer(1)}".encode()
    for level in range(6):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"level{level}.zip" if level else "a.txt", data)
        data = buf.getvalue()
    items = texts("top.zip", data, formats.Limits(max_depth=3))
    assert [i.problem for i in items if i.problem] == ["archive nested too deep"]
    assert not any(i.text for i in items)


def test_gzip_bomb_is_cut_at_the_member_limit() -> None:
    bomb = gzip.compress(bytes(64 << 20))
    items = texts("big.gz", bomb, formats.Limits(max_member=1 << 20))
    assert [(i.path, i.problem) for i in items] == [
        ("big.gz!big", "over the unpack limit (gzip bomb?)")
    ]


def test_encrypted_zip_member_is_reported() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.txt", "secret")
    raw = bytearray(buf.getvalue())
    raw[6] |= 1  # local header flag: encrypted
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 8] |= 1  # central directory flag
    items = texts("enc.zip", bytes(raw))
    assert [(i.path, i.problem) for i in items] == [("enc.zip!x.txt", "encrypted archive member")]


def test_corrupt_document_falls_back_to_raw_bytes() -> None:
    data = b"%PDF-1.7\n garbage 811228-9874"
    items = texts("broken.pdf", data)
    assert [(i.problem, i.raw) for i in items] == [
        ("pdf file could not be read: PdfStreamError", None),
        (None, data),
    ]
