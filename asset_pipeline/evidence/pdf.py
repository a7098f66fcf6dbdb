"""The PDF form of a signed document, and reading the evidence back out of one.

The PDF carries the signed JSON as an embedded file (`<id>.json`), so the PDF alone can be
verified. The page shows the document's fields, the SHA-256 of the signed JSON, a QR code
(segno) holding `AP-CERT;id=<id>;sha256=<hex>`, and a footer with the station key's
fingerprint. Fonts are embedded TrueType (DejaVu Sans when installed, else the Bitstream Vera
that ships inside reportlab), so å, ä and ö render and extract correctly.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from asset_pipeline.errors import InvalidDocument
from asset_pipeline.evidence.i18n import Text
from asset_pipeline.evidence.layout import Layout, Row, layout_of
from asset_pipeline.evidence.signing import SignedDocument

log = logging.getLogger(__name__)

QR_PREFIX = "AP-CERT"
QR_PATTERN = re.compile(r"^AP-CERT;id=([A-Za-z0-9-]{1,64});sha256=([0-9a-f]{64})$")
# With `verify_url` configured the QR code is the verification page's link for the document.
QR_URL_PATTERN = re.compile(r"^https?://[^\s?#]+/c/([A-Za-z0-9-]{1,64})\?h=([0-9a-f]{64})$")
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_QR_SIZE = 34 * mm
MARGIN = 15 * mm  # where text starts and ends on both sides
FRAME_PADDING = 6  # reportlab's Frame pads its content by 6 pt inside the page margins
FRAME_W = A4[0] - 2 * MARGIN  # 180 mm: the tables fill exactly this
# Column widths: label and value of a section's rows, and the batch report's device table.
ROW_COLUMNS = (50 * mm, FRAME_W - 50 * mm)
DEVICE_COLUMNS = (9 * mm, 34 * mm, 32 * mm, 30 * mm, 33 * mm, 42 * mm)  # ids fit on one line
FOOTER_SIZE = 6.5
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#bbbbbb")


@dataclass(frozen=True)
class PdfEvidence:
    """What a PDF holds that verification needs."""

    attachments: dict[str, bytes]
    text: str
    qr_texts: tuple[str, ...]
    pages: int


def qr_text(signed: SignedDocument, verify_url: str = "") -> str:
    """The QR code's content: the document id and the SHA-256 of the signed JSON.

    As the verification page's link (`<verify_url>/c/<id>?h=<sha256>`) when the station has a
    `verify_url`, so a phone opens the page; else `AP-CERT;id=...;sha256=...`.
    """
    if verify_url:
        return f"{verify_url.rstrip('/')}/c/{signed.doc_id}?h={signed.sha256}"
    return f"{QR_PREFIX};id={signed.doc_id};sha256={signed.sha256}"


def qr_reference(text: str) -> tuple[str, str] | None:
    """(document id, sha256) named by a QR code's text in either form, or None."""
    found = QR_PATTERN.match(text) or QR_URL_PATTERN.match(text)
    return (found.group(1), found.group(2)) if found else None


def render_pdf(signed: SignedDocument, *, verify_url: str = "") -> bytes:
    """The PDF bytes for `signed`, with the signed JSON attached.

    The page prints `layout.layout_of(signed)` and nothing else: the title (Swedish, then
    English), each section as a two-column table of boxed cells (label, value; Swedish above
    English in grey), the table of a report (devices, or a return report's assets) and the
    sections after it, the closing lines that say how to verify, and a footer with the key's
    fingerprint on every page.
    """
    regular, bold = _fonts()
    page = layout_of(signed)
    styles = _styles(regular, bold)
    heading = [Paragraph(escape(page.title.sv), styles["title"])]
    if not page.title.same:
        heading.append(Paragraph(escape(page.title.en), styles["subtitle"]))
    heading += [
        Spacer(1, 2 * mm),
        Paragraph(escape(page.reference), styles["mono"]),
    ]
    header = Table(
        [[heading, _qr_image(qr_text(signed, verify_url))]],
        colWidths=[FRAME_W - _QR_SIZE, _QR_SIZE],
    )
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story: list = [header]
    for section in page.sections:
        story.append(Paragraph(escape(str(section.title)), styles["heading"]))
        story.append(_rows_table(section.rows, styles))
    if page.table_title is not None:
        story.append(Paragraph(escape(str(page.table_title)), styles["heading"]))
        story.append(_device_table(page, styles))
    for section in page.after_table:
        story.append(Paragraph(escape(str(section.title)), styles["heading"]))
        story.append(_rows_table(section.rows, styles))
    story.append(Spacer(1, 3 * mm))
    for text in page.closing:
        story += _cell(text, styles["small"], styles["small_en"])
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=12 * mm,
        bottomMargin=16 * mm,
        title=f"{page.title.en} {signed.doc_id}",
        author=signed.document["issuer"]["organization"],
        subject=signed.sha256,
        creator="asset-pipeline",
    )

    def on_page(canvas, document) -> None:  # noqa: ANN001 - reportlab callback
        canvas.setFont(regular, FOOTER_SIZE)
        canvas.setFillColor(colors.black)
        canvas.drawString(MARGIN, 8 * mm, page.footer)
        canvas.drawRightString(A4[0] - MARGIN, 11.5 * mm, f"{signed.doc_id} · {document.page}")

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return _attach(out.getvalue(), f"{signed.doc_id}.json", signed.data)


def read_pdf(data: bytes) -> PdfEvidence:
    """Attachments, text and decoded QR codes of a PDF.

    Raises:
        InvalidDocument: not a complete, readable PDF.
    """
    require_complete(data)
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        attachments = {name: blobs[0] for name, blobs in reader.attachments.items() if blobs}
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        pages = len(reader.pages)
        qr = _decode_qr(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        raise InvalidDocument(f"PDF cannot be read: {str(e).splitlines()[0][:120]}") from e
    return PdfEvidence(attachments=attachments, text=text, qr_texts=qr, pages=pages)


def require_complete(data: bytes) -> None:
    """Refuse what is not a whole PDF file (no header, or cut before its `%%EOF`).

    Raises:
        InvalidDocument: as above.
    """
    if not data.startswith(b"%PDF-"):
        raise InvalidDocument("not a PDF file (no %PDF- header)")
    if not data.rstrip().endswith(b"%%EOF"):
        raise InvalidDocument("PDF is truncated (it does not end with %%EOF)")


def _decode_qr(reader: PdfReader) -> tuple[str, ...]:
    import zxingcpp  # imported here: only verification needs the decoder

    found: list[str] = []
    for image in reader.pages[0].images:
        found += [barcode.text for barcode in zxingcpp.read_barcodes(image.image)]
    return tuple(found)


def _attach(pdf: bytes, name: str, payload: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_attachment(name, payload)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _qr_image(content: str) -> Image:
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="png", scale=4, border=4)
    buffer.seek(0)
    return Image(buffer, width=_QR_SIZE, height=_QR_SIZE)


def _fonts() -> tuple[str, str]:
    """Register the TrueType fonts once; DejaVu when installed, else reportlab's own Vera."""
    if "Evidence" in pdfmetrics.getRegisteredFontNames():
        return "Evidence", "Evidence-Bold"
    for directory in _FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            break
    else:
        import reportlab

        fonts = Path(reportlab.__file__).with_name("fonts")
        regular, bold = fonts / "Vera.ttf", fonts / "VeraBd.ttf"
    pdfmetrics.registerFont(TTFont("Evidence", str(regular)))
    pdfmetrics.registerFont(TTFont("Evidence-Bold", str(bold)))
    log.debug("PDF fonts: %s, %s", regular, bold)
    return "Evidence", "Evidence-Bold"


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    # splitLongWords: a serial number or hash longer than its cell is broken, never let out.
    def style(name: str, **kw: object) -> ParagraphStyle:
        return ParagraphStyle(name, splitLongWords=1, **kw)

    return {
        "title": style("title", fontName=bold, fontSize=16, leading=20),
        "subtitle": style("subtitle", fontName=regular, fontSize=11, leading=14, textColor=_GREY),
        "heading": style("heading", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4,
                         spaceAfter=1.5, keepWithNext=1),
        "cell": style("cell", fontName=regular, fontSize=7.5, leading=9),
        "cell_en": style("cell_en", fontName=regular, fontSize=7, leading=8.6, textColor=_GREY),
        "label": style("label", fontName=bold, fontSize=7, leading=8.6),
        "label_en": style("label_en", fontName=regular, fontSize=6.8, leading=8.4,
                          textColor=_GREY),
        "small": style("small", fontName=regular, fontSize=7, leading=9),
        "small_en": style("small_en", fontName=regular, fontSize=7, leading=9, textColor=_GREY),
        "mono": style("mono", fontName=regular, fontSize=7.5, leading=9.5),
    }  # fmt: skip


def _bilingual(text: Text, sv: ParagraphStyle, en: ParagraphStyle) -> list[Paragraph] | Paragraph:
    """Swedish above English (one paragraph when they read the same)."""
    if text.same:
        return Paragraph(escape(text.sv), sv)
    return [Paragraph(escape(text.sv), sv), Paragraph(escape(text.en), en)]


def _cell(text: Text, sv: ParagraphStyle, en: ParagraphStyle) -> list[Paragraph]:
    found = _bilingual(text, sv, en)
    return found if isinstance(found, list) else [found]


def _boxes() -> list[tuple]:
    # Every cell is a drawn box: what the page-layout test checks each word against.
    return [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ]


def _rows_table(rows: list[Row], styles: dict[str, ParagraphStyle]) -> Table:
    data = [
        [
            _cell(row.label, styles["label"], styles["label_en"]),
            _cell(row.value, styles["cell"], styles["cell_en"]),
        ]
        for row in rows
    ]
    table = Table(data, colWidths=list(ROW_COLUMNS), hAlign="LEFT")
    table.setStyle(TableStyle(_boxes()))
    return table


def _device_table(layout: Layout, styles: dict[str, ParagraphStyle]) -> Table:
    data = [[_cell(h, styles["label"], styles["label_en"]) for h in layout.table_header]]
    data += [
        [_cell(v, styles["cell"], styles["cell_en"]) for v in row] for row in layout.table_rows
    ]
    widths = [w * mm for w in layout.table_widths] if layout.table_widths else DEVICE_COLUMNS
    table = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*_boxes(), ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black)]))
    return table
