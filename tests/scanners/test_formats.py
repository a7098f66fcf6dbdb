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


def _utf32(sample: bytes, low: int) -> bool:
    """UTF-32 by strided byte counts, as `text_form` judged it before numpy counted its zeros."""
    units = len(sample) // 4
    if units < 8:
        return False
    zeros = sum(sample[i::4].count(0) for i in range(4) if i != low)
    return zeros > 0.9 * 3 * units and sample[low::4].count(0) < 0.1 * units


def _text_form_without_the_zero_count(data: bytes) -> str:
    """`plain.text_form` as it was before its count of zeros: every encoding test run."""
    from scanners.formats import plain

    if any(data.startswith(bom) for bom, _ in plain._BOMS):
        return "bom"
    sample = data[:65536]
    for encoding, unit in (("utf-32-le", 0), ("utf-32-be", 3)):
        if _utf32(sample, unit):
            return encoding
    if plain._utf16_le(sample):
        return "utf-16-le"
    if plain._utf16_le(sample[1:]):
        return "utf-16-be"
    return "binary" if plain._binary(sample) else plain.UTF8_FIRST


def test_text_form_rules_out_wide_text_by_its_zeros_as_the_full_tests_do() -> None:
    """The count of zeros only skips tests that cannot pass. Tried: 6,000 samples of 1 byte
    to 70 KB: text in UTF-8, UTF-16 and UTF-32 (both orders, cut at odd lengths), binary, and
    near the threshold (the zeros of UTF-16 thinned out byte by byte, or spread at random)."""
    import random

    from scanners.formats.plain import text_form

    rng = random.Random(21)
    words = "Anna Berg bor på Storgatan 12 i Malmö; ring 070-123 45 67. " * 2000
    forms: set[str] = set()
    for trial in range(6000):
        size = rng.choice([1, 7, 8, 16, 31, 32, 33, 100, 4096, 70_000, rng.randrange(1, 70_000)])
        start = rng.randrange(0, 1000)
        text = words[start : start + size]
        encoding = rng.choice(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
        data = bytearray(text.encode(encoding))[: size + rng.randrange(0, 4)]
        if trial % 3 == 1 and data:  # thin out the zeros, around the 0.9 thresholds
            for _ in range(rng.randrange(0, max(1, len(data) // 8))):
                data[rng.randrange(len(data))] = rng.randrange(1, 256)
        elif trial % 3 == 2:
            data = bytearray(
                0 if rng.random() < rng.choice([0.3, 0.44, 0.45, 0.46, 0.6]) else rng.randrange(256)
                for _ in range(rng.choice([32, 100, 999, 4000]))
            )
        want = _text_form_without_the_zero_count(bytes(data))
        assert text_form(bytes(data)) == want, (trial, encoding, len(data))
        forms.add(want)
    assert forms >= {"utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "binary", "utf-8 first"}
