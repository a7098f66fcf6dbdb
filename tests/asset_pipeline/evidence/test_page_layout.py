"""Every page of a certificate, a destruction certificate, a batch and a return report keeps text
in its box.

Each PDF is rendered to PNG by poppler's `pdftoppm` (an independent renderer) and read back with
`pdfplumber` (positions of every word and of the drawn cell boxes). A word must sit inside the
cell box it starts in, or, outside the tables, inside the page's text frame; the PNG's margins
must hold no ink. The documents carry hostile values: unbroken 90-character serials and
hashes, a 200-character organisation name, long contacts and notes, many devices; the return
report adds a customer list of long unbroken tags, serials and cost centres, long headers and
values of the customer's own columns, a long close reason, and many assets.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pdfplumber
import pytest
from evidence_fixtures import PRE_FINDINGS, load_device, scan_report, wipe_result
from PIL import Image

from asset_pipeline.evidence import batch_report, issuing, return_report
from asset_pipeline.evidence.layout import layout_of
from asset_pipeline.evidence.pdf import MARGIN
from asset_pipeline.flow import destruction
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.linking import link
from asset_pipeline.intake.receiving import receive
from asset_pipeline.intake.reconcile import close
from asset_pipeline.station.config import write_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import assets, batches, operators

A4_W, A4_H = 595.2756, 841.8898
SLACK = 0.6  # points: rounding in the extractor
LONG_SERIAL = "S3Z9NB0K" * 11 + "X9"  # 90 characters, no space to break at
LONG_ORG = "Återbruk " + "Norrlandskustens Kommunala Fastighets- och Teknikförvaltning " * 3
LONG_TAG = "INV-" + "0" * 70  # + two digits: 76 characters, no space
KINDS = ["sanitization", "destruction", "batch_report", "return_report"]

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils missing")


@pytest.fixture
def hostile(station: Station, add_device) -> dict[str, Path]:
    """A certificate, a destruction certificate and a batch report full of long values."""
    config = station.config.updated(organization=LONG_ORG, site="Sundsvall " * 8)[0]
    write_config(station.data_dir, config)
    station.reconfigure(config)
    with station.session() as session:
        operators.add_operator(
            session,
            "Marie-Louise Åkerström-Bergqvist " * 3,
            title="Teknisk specialist " * 6,
            contact="marie-louise.akerstrom-bergqvist@" + "a" * 60 + ".se",
        )
    station.operator_override = ("Marie-Louise Åkerström-Bergqvist " * 3).strip()
    ids = [add_device(serial=f"{LONG_SERIAL}{n}") for n in range(14)]
    with station.session() as session:
        device = load_device(session, ids[0])
        device.model = "Samsung SSD 870 EVO 4TB with a very long model string " * 3
        device.source_machine = "Dell Latitude 7420 " * 8
        sanitized = issuing.issue_sanitization_certificate(
            session, station, device, wipe_result=wipe_result(), pre_scan=scan_report(PRE_FINDINGS),
            post_scan=scan_report(), notes=["Kund önskar återbruk " * 12, "x" * 280],
        )  # fmt: skip
    with station.session() as session:
        device = load_device(session, ids[1])
        device.state = "failed"
        destroyed = destruction.record_destruction(
            session, station, device, method="shred", destroyed_on=date.today(),
            witness="Lena Berg " * 10, facility="Stena Recycling AB, " * 8,
        )  # fmt: skip
    with station.session() as session:
        batch = load_device(session, ids[0]).batch
        for n in ids[2:]:
            load_device(session, n).batch_id = batch.id
        session.flush()
        session.expire_all()
        report = batch_report.issue_batch_report(session, station, batches.find_batch(session, 1))
    with station.session() as session:
        returned = _return_report(session, station, batches.find_batch(session, 1), ids)
    return {"sanitization": sanitized.pdf_path, "destruction": destroyed.pdf_path,
            "batch_report": report.pdf_path, "return_report": returned.pdf_path}  # fmt: skip


def _return_report(session, station: Station, batch, ids: list[int]):
    """Sixteen assets with long tags, serials and own columns; drives linked; closed by force."""
    header = ["Inventarienummer", "Serienummer", "Typ", "Märke", "Modell",
              "Kostnadsställe och ansvarig förvaltning enligt avtalet", "Placering"]  # fmt: skip
    rows = [[f"{LONG_TAG}{n:02d}", f"{LONG_SERIAL}{n}",
             "Bärbar dator med dockningsstation och extra batteri", "Hewlett-Packard Enterprise",
             "EliteBook 840 G5 with a very long model designation " * 2, "4410-" + "9" * 60,
             "Hus B, plan 3, rum 3.14 bakom förrådet vid lastkajen " * 3]
            for n in range(16)]  # fmt: skip
    text = "\r\n".join(";".join(row) for row in [header, *rows])
    import_manifest(session, station, batch, "tillgångar " * 8 + ".csv", text.encode())
    for row in rows[:15]:
        receive(session, station, batch, row[0])
    receive(session, station, batch, "OKÄND-" + "Å" * 90)
    for n, device_id in enumerate(ids[2:9]):  # one drive of each of seven assets
        device = load_device(session, device_id)
        link(session, station, device, assets.find_asset(session, batch, rows[n][0]))
    close(session, station, batch, force=True, reason="Kunden hämtar resten själv, " * 10)
    return return_report.issue_return_report(session, station, batch)


def _words_outside_their_box(page: pdfplumber.page.Page) -> list[str]:
    cells = [cell for table in page.find_tables() for cell in table.cells]
    bad = []
    for cell in cells:  # the boxes themselves stay in the frame
        if cell[0] < MARGIN - SLACK or cell[2] > A4_W - MARGIN + SLACK:
            bad.append(f"box {cell} leaves the frame")
    for word in page.extract_words():
        x0, x1, top, bottom = word["x0"], word["x1"], word["top"], word["bottom"]
        home = next((c for c in cells if c[0] <= x0 + SLACK and c[1] <= top + SLACK
                     and x0 < c[2] and top < c[3]), None)  # fmt: skip
        box = home or (MARGIN, 0, A4_W - MARGIN, A4_H)
        if x1 > box[2] + SLACK or bottom > box[3] + SLACK or x0 < box[0] - SLACK:
            where = "cell" if home else "frame"
            bad.append(f"{word['text'][:30]!r} at x {x0:.1f}-{x1:.1f} leaves its {where} {box}")
    return bad


def _ink_in_margins(png: Path) -> list[str]:
    image = Image.open(png).convert("L")
    width, height = image.size
    per_pt = width / A4_W
    strips = {
        "left": (0, 0, int((MARGIN - 2) * per_pt), height),
        "right": (int((A4_W - MARGIN + 2) * per_pt), 0, width, height),
        "top": (0, 0, width, int(20 * per_pt)),
        "bottom": (0, int((A4_H - 14) * per_pt), width, height),
    }
    return [name for name, box in strips.items() if image.crop(box).getextrema()[0] < 200]


@pytest.mark.parametrize("kind", KINDS)
def test_no_text_leaves_its_box(hostile: dict[str, Path], kind: str, tmp_path: Path) -> None:
    pdf = hostile[kind]
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / kind)], check=True)
    pngs = sorted(tmp_path.glob(f"{kind}*.png"))
    with pdfplumber.open(pdf) as document:
        assert len(pngs) == len(document.pages) >= 1
        for number, page in enumerate(document.pages, 1):
            assert _words_outside_their_box(page) == [], f"page {number}"
            assert page.find_tables(), f"page {number} has no boxed rows"
    for png in pngs:
        assert _ink_in_margins(png) == [], png.name


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_prints_what_the_layout_says(hostile: dict[str, Path], kind: str) -> None:
    from asset_pipeline.evidence.pdf import read_pdf
    from asset_pipeline.evidence.signing import read_document

    pdf = hostile[kind].read_bytes()
    evidence = read_pdf(pdf)
    signed = read_document(next(iter(evidence.attachments.values())))
    page_text = "".join(evidence.text.split()).replace("\xa0", "")
    for line in layout_of(signed).lines():
        assert "".join(line.split()).replace("\xa0", "") in page_text, line[:80]
