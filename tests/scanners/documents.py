"""A corpus of documents with planted identifiers, and the counts a scan must report for them.

Every value is generated (valid Luhn, reserved example domains): no real person's data. Each file
lists what the file pass must find in it (`files`) and what the raw pass can see of it on the
medium (`raw`): base64 e-mail attachments, for example, are visible to the file pass only.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path


def luhn_digit(digits: str) -> int:
    """The Luhn check digit for `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def personnummer(n: int, *, century: bool = False) -> str:
    """The n-th generated personnummer: a real date, serial >= 100, valid check digit."""
    year, month, day = 1950 + n % 50, 1 + n % 12, 1 + n % 28
    serial = 100 + (n * 37) % 899
    base = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    text = f"{base[:6]}-{base[6:]}{luhn_digit(base)}"
    return f"{year // 100}{text}" if century else text


def email(n: int) -> str:
    """The n-th generated e-mail address (example.se is reserved for documentation)."""
    return f"kund{n}.testsson@example.se"


@dataclass
class Planted:
    """Counts per category that a pass must find in one file."""

    files: dict[str, int] = field(default_factory=dict)
    raw: dict[str, int] = field(default_factory=dict)


def _both(pn: int = 0, em: int = 0) -> Planted:
    counts = {k: v for k, v in (("personnummer", pn), ("email", em)) if v}
    return Planted(dict(counts), dict(counts))


def _xml_zip(parts: dict[str, str], *, odf: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if odf:
            z.writestr(zipfile.ZipInfo("mimetype"), odf, compress_type=zipfile.ZIP_STORED)
        for name, body in parts.items():
            z.writestr(name, body)
    return buf.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    """A minimal WordprocessingML document."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    return _xml_zip(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": (
                f'<?xml version="1.0"?><w:document {ns}><w:body>{body}</w:body></w:document>'
            ),
        }
    )


def xlsx(strings: list[str]) -> bytes:
    """A minimal SpreadsheetML workbook whose cells hold `strings` (shared strings)."""
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return _xml_zip(
        {
            "[Content_Types].xml": "<Types/>",
            "xl/sharedStrings.xml": f"<sst>{sst}</sst>",
            "xl/worksheets/sheet1.xml": (
                "<worksheet><sheetData><row><c t='s'><v>0</v></c></row></sheetData></worksheet>"
            ),
        }
    )


def pptx(texts: list[str]) -> bytes:
    """A minimal PresentationML deck with one slide."""
    body = "".join(f"<a:p><a:r><a:t>{t}</a:t></a:r></a:p>" for t in texts)
    return _xml_zip(
        {"[Content_Types].xml": "<Types/>", "ppt/slides/slide1.xml": f"<p:sld>{body}</p:sld>"}
    )


def odf(texts: list[str], mimetype: str) -> bytes:
    """A minimal OpenDocument file (odt or ods)."""
    body = "".join(f"<text:p>{t}</text:p>" for t in texts)
    return _xml_zip(
        {"content.xml": f"<office:document-content>{body}</office:document-content>"}, odf=mimetype
    )


def pdf(lines: list[str]) -> bytes:
    """A PDF made by reportlab (page content compressed with FlateDecode)."""
    from reportlab import rl_config
    from reportlab.pdfgen import canvas

    # FlateDecode alone, as Word and LibreOffice write it (reportlab adds ASCII85 by default).
    was, rl_config.useA85 = rl_config.useA85, 0
    try:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pageCompression=1)
        for i, line in enumerate(lines):
            c.drawString(72, 720 - 20 * i, line)
        c.save()
    finally:
        rl_config.useA85 = was  # a global: other tests want reportlab's default
    return buf.getvalue()


def sqlite_db(rows: list[tuple[str, str]], path: Path) -> None:
    """An application database with a customer table."""
    conn = sqlite3.connect(path)
    # SQLite stores a row's columns back to back: the integer column (300 is stored as the bytes
    # 0x01 0x2c) keeps the e-mail from being glued to the personnummer before it on the medium.
    conn.execute("CREATE TABLE kund (id INTEGER PRIMARY KEY, pnr TEXT, kundnr INTEGER, epost TEXT)")
    # The first row lands at the end of the page, where the next file's bytes follow on the
    # medium ("...example.sePK..." reads as another address): a row without identifiers goes there.
    rows = [("saknas", "saknas"), *rows]
    conn.executemany("INSERT INTO kund (pnr, kundnr, epost) VALUES (?, 300, ?)", rows)
    conn.commit()
    conn.close()


def write_corpus(root: Path) -> dict[str, Planted]:
    """Write the corpus under `root`; returns the expected counts per relative path."""
    root.mkdir(parents=True, exist_ok=True)
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    out: dict[str, Planted] = {}

    def put(rel: str, data: bytes, planted: Planted) -> None:
        (root / rel).write_bytes(data)
        out[rel] = planted

    pn = personnummer
    put(
        "docs/notes.txt",
        f"Anteckning\nPersonnummer: {pn(1)}\nOch {pn(2, century=True)}, mejl {email(1)}\n".encode(),
        _both(2, 1),
    )
    rows = "".join(f"{i};{pn(10 + i)};{email(10 + i)}\n" for i in range(3))
    put("docs/kunder.csv", ("id;personnummer;epost\n" + rows).encode(), _both(3, 3))
    put(
        "docs/latin1.txt",
        f"Kundtjänst för Åsa Öberg\nPersonnummer {pn(20)} e-post {email(20)}\n".encode("cp1252"),
        _both(1, 1),
    )
    put(
        "docs/utf16.txt",
        f"\ufeffPersonnummer: {pn(21)} mejl: {email(21)}\r\n".encode("utf-16-le"),
        _both(1, 1),
    )
    put("docs/brev.docx", docx([f"Personnummer: {pn(30)}", f"E-post: {email(30)}"]), _both(1, 1))
    put("docs/lista.xlsx", xlsx([pn(31), pn(32), email(31)]), _both(2, 1))
    put("docs/bilder.pptx", pptx(["Kund", f"Personnummer {pn(33)}"]), _both(1, 0))
    put(
        "docs/avtal.odt",
        odf(
            [f"Avtal för personnummer {pn(34)}", f"Kontakt {email(34)}"],
            "application/vnd.oasis.opendocument.text",
        ),
        _both(1, 1),
    )
    put(
        "docs/tabell.ods",
        odf([f"{pn(35)}"], "application/vnd.oasis.opendocument.spreadsheet"),
        _both(1, 0),
    )
    put("docs/faktura.pdf", pdf([f"Personnummer: {pn(36)}", f"E-post: {email(36)}"]), _both(1, 1))
    put(
        "docs/brev.rtf",
        (
            "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Hej K\\'e5re,\\par Personnummer "
            + pn(37)
            + "\\par}"
        ).encode(),
        _both(1, 0),
    )
    put(
        "docs/sida.html",
        (
            f"<html><body><p>Personnummer {pn(38)}</p>"
            f"<a href='mailto:{email(38)}'>{email(38)}</a></body></html>"
        ).encode(),
        _both(1, 2),
    )

    msg = EmailMessage()
    msg["From"] = f"Kund <{email(40)}>"
    msg["To"] = "support@example.se"
    msg["Subject"] = "Mitt konto"
    msg.set_content(f"Hej, mitt personnummer är {pn(40)}.\n", cte="8bit")
    msg.add_attachment(
        f"Bilaga: {pn(41)}\n".encode(), maintype="text", subtype="plain", filename="bilaga.txt"
    )
    # The attachment is base64 on the medium: only the file pass decodes it.
    put(
        "docs/mail.eml",
        bytes(msg),
        Planted({"personnummer": 2, "email": 2}, {"personnummer": 1, "email": 2}),
    )

    mbox = "".join(
        f"From {email(50 + i)} Sat Jan  1 00:00:00 2022\nFrom: {email(50 + i)}\n"
        f"Subject: hej\n\nPersonnummer {pn(50 + i)}\n\n"
        for i in range(2)
    )
    # The mbox "From " separator lines hold the sender too: the raw pass sees them, the parser not.
    put(
        "docs/inbox.mbox",
        mbox.encode(),
        Planted({"personnummer": 2, "email": 2}, {"personnummer": 2, "email": 4}),
    )

    sqlite_db([(pn(60), email(60)), (pn(61), email(61))], root / "docs/app.sqlite")
    out["docs/app.sqlite"] = _both(2, 2)

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("hemlig.txt", f"Personnummer {pn(70)}\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner.zip", inner.getvalue())
        z.writestr("a.txt", f"E-post {email(70)}\n")
    put("docs/arkiv.zip", outer.getvalue(), _both(1, 1))
    put("docs/logg.txt.gz", gzip.compress(f"Personnummer {pn(71)}\n".encode()), _both(1, 0))
    # Written, then deleted from the file system after it is built: raw pass only.
    put(
        "raderad.txt",
        f"Raderad fil: personnummer {pn(80)} mejl {email(80)}\n".encode(),
        Planted({}, {"personnummer": 1, "email": 1}),
    )
    return out


def totals(planted: dict[str, Planted], which: str) -> dict[str, int]:
    """Sum the expected counts of one pass over the corpus."""
    sums: dict[str, int] = {}
    for p in planted.values():
        for cat, n in getattr(p, which).items():
            sums[cat] = sums.get(cat, 0) + n
    return sums
