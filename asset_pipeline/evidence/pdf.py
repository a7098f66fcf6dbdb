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
from asset_pipeline.evidence.layout import Layout, layout_for
from asset_pipeline.evidence.signing import SignedDocument

log = logging.getLogger(__name__)

QR_PREFIX = "AP-CERT"
QR_PATTERN = re.compile(r"^AP-CERT;id=([A-Za-z0-9-]{1,64});sha256=([0-9a-f]{64})$")
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_QR_SIZE = 34 * mm


@dataclass(frozen=True)
class PdfEvidence:
    """What a PDF holds that verification needs."""

    attachments: dict[str, bytes]
    text: str
    qr_texts: tuple[str, ...]
    pages: int


def qr_text(signed: SignedDocument) -> str:
    """The QR code's content: the document id and the SHA-256 of the signed JSON."""
    return f"{QR_PREFIX};id={signed.doc_id};sha256={signed.sha256}"


def render_pdf(signed: SignedDocument) -> bytes:
    """The PDF bytes for `signed`, with the signed JSON attached."""
    regular, bold = _fonts()
    layout = layout_for(signed.document)
    styles = _styles(regular, bold)
    heading = [
        Paragraph(escape(layout.title), styles["title"]),
        Paragraph(escape(layout.subtitle), styles["subtitle"]),
        Spacer(1, 2 * mm),
        Paragraph(
            f"{escape(signed.doc_id)} · {escape(signed.document['issued_at'])}", styles["mono"]
        ),
    ]
    header = Table([[heading, _qr_image(qr_text(signed))]], colWidths=[146 * mm, _QR_SIZE])
    header.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story: list = [header]
    for heading, rows in layout.sections:
        story.append(Paragraph(escape(heading), styles["heading"]))
        story.append(_rows_table(rows, styles))
    if layout.table_header:
        story.append(Paragraph("Enheter / Devices", styles["heading"]))
        story.append(_device_table(layout, styles))
    story += [
        Spacer(1, 3 * mm),
        Paragraph("SHA-256 of the signed JSON / av den signerade JSON-filen:", styles["small"]),
        Paragraph(signed.sha256, styles["mono"]),
        Paragraph(
            escape(
                f"The signed JSON is attached to this PDF as {signed.doc_id}.json. Verify it "
                "with the station's public key: asset-pipeline cert verify FILE --public-key "
                "station.pub.pem"
            ),
            styles["small"],
        ),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=16 * mm,
        title=f"{layout.title} {signed.doc_id}",
        author=signed.document["issuer"]["organization"],
        subject=signed.sha256,
        creator="asset-pipeline",
    )
    footer = f"Station key fingerprint (SHA-256): {signed.key_fingerprint}"

    def on_page(canvas, document) -> None:  # noqa: ANN001 - reportlab callback
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.black)
        canvas.drawString(15 * mm, 8 * mm, footer)
        canvas.drawRightString(A4[0] - 15 * mm, 11.5 * mm, f"{signed.doc_id} · {document.page}")

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return _attach(out.getvalue(), f"{signed.doc_id}.json", signed.data)


def read_pdf(data: bytes) -> PdfEvidence:
    """Attachments, text and decoded QR codes of a PDF.

    Raises:
        InvalidDocument: not a complete, readable PDF.
    """
    if not data.startswith(b"%PDF-"):
        raise InvalidDocument("not a PDF file (no %PDF- header)")
    if not data.rstrip().endswith(b"%%EOF"):
        raise InvalidDocument("PDF is truncated (it does not end with %%EOF)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        attachments = {name: blobs[0] for name, blobs in reader.attachments.items() if blobs}
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        pages = len(reader.pages)
        qr = _decode_qr(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
        raise InvalidDocument(f"PDF cannot be read: {str(e).splitlines()[0][:120]}") from e
    return PdfEvidence(attachments=attachments, text=text, qr_texts=qr, pages=pages)


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
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=17, leading=21),
        "subtitle": ParagraphStyle("subtitle", fontName=regular, fontSize=10, leading=13),
        "heading": ParagraphStyle(
            "heading", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4, spaceAfter=1
        ),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9),
        "label": ParagraphStyle(
            "label", fontName=regular, fontSize=7, leading=9, textColor=colors.HexColor("#444444")
        ),
        "small": ParagraphStyle("small", fontName=regular, fontSize=7, leading=9),
        "mono": ParagraphStyle("mono", fontName=regular, fontSize=7.5, leading=9.5),
    }


def _rows_table(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle]) -> Table:
    data = [
        [Paragraph(escape(label), styles["label"]), Paragraph(escape(str(value)), styles["cell"])]
        for label, value in rows
    ]
    table = Table(data, colWidths=[58 * mm, 122 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 0.6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.6),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ]
        )
    )
    return table


def _device_table(layout: Layout, styles: dict[str, ParagraphStyle]) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(escape(h), styles["label"]) for h in layout.table_header]]
    data += [[Paragraph(escape(v), cell) for v in row] for row in layout.table_rows]
    widths = [10 * mm, 38 * mm, 34 * mm, 26 * mm, 26 * mm, 46 * mm]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ]
        )
    )
    return table
