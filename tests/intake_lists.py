"""Customer asset lists as their spreadsheets write them, for the intake tests (CSV, XLSX, ODS).

The files are written by independent writers (Python's csv module, openpyxl, odfpy), not by
the code under test.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from evidence_fixtures import drive, scan_report, wipe_result

from asset_pipeline.evidence.issuing import issue_sanitization_certificate
from asset_pipeline.flow import lifecycle
from asset_pipeline.flow.destruction import record_destruction
from asset_pipeline.flow.states import State
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.linking import link
from asset_pipeline.intake.receiving import receive
from asset_pipeline.storage import assets, batches, devices

if TYPE_CHECKING:
    from asset_pipeline.station.context import Station

# What a municipality's IT department sends: Swedish headers, its own columns, and the columns
# that must never be stored (user, e-mail) with values planted to be looked for afterwards.
HEADER = ["Inventarienummer", "Serienummer", "Typ", "Märke", "Modell", "Kostnadsställe",
          "Placering", "Användare", "E-post"]  # fmt: skip
ROWS = [
    ["INV-0001", "5CG1234XYZ", "Bärbar dator", "HP", "EliteBook 840 G5", "4410", "Hus B, plan 3",
     "asve01", "anna.svensson@example.se"],
    ["INV-0002", "C02XK0ABJGH5", "Bärbar dator", "Apple", "MacBook Pro", "4410", "Hus B, plan 2",
     "bope02", "bo.persson@example.se"],
    ["INV-0003", "PF1ABCDE", "Stationär", "Lenovo", "ThinkCentre M720", "4420", "Förråd Å",
     "", ""],
]  # fmt: skip
PERSONAL_VALUES = ("asve01", "bope02", "anna.svensson@example.se", "bo.persson@example.se")


def csv_bytes(
    header: list[str] = HEADER,
    rows: list[list[str]] = ROWS,
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
    title: str | None = None,
) -> bytes:
    """The list as a CSV file, written by Python's csv module (an independent writer)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if title:
        writer.writerow([title])
        writer.writerow([])
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(header: list[str] = HEADER, rows: list = ROWS) -> bytes:
    """The list as an XLSX workbook made with openpyxl (a notes sheet after it)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Tillgångar"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.create_sheet("Anteckningar").append(["Serienummer", "inte denna flik"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(header: list[str] = HEADER, rows: list = ROWS) -> bytes:
    """The list as an ODS spreadsheet made with odfpy (numbers as float cells)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Tillgångar")
    for values in [header, *rows]:
        row = TableRow()
        for value in values:
            if isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            row.addElement(cell)
        table.addElement(row)
    # What LibreOffice writes after the data: empty cells and rows "repeated" to the sheet's end.
    table.addElement(TableRow(numberrowsrepeated=1048000))
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def station_bytes(station: Station) -> bytes:
    """Every byte the station stored: database files, certificates, reports."""
    return b"".join(
        p.read_bytes() for p in sorted(Path(station.data_dir).rglob("*")) if p.is_file()
    )


def open_batch(station: Station) -> int:
    """An open batch under a Clear agreement with Åre kommun; its id."""
    with station.session() as session:
        customer = batches.add_customer(session, "Åre kommun", "212000-2411")
        agreement = batches.add_agreement(
            session, customer=customer, reference="PUB-2026-7", required_level="clear",
            discovery_instructed=False, retention_years=7,
        )  # fmt: skip
        return batches.open_batch(session, agreement, order_number="PO-4711").id


def build_shipment(station: Station, batch_id: int) -> dict[str, int]:
    """INV-0001 certified drive, INV-0002 destroyed drive, INV-0003 missing, OKÄND-9
    unexpected, and a loose drive still sanitizing. Returns device ids by name."""
    ids = {}
    with station.session() as session:
        batch = batches.find_batch(session, batch_id)
        import_manifest(session, station, batch, "lista.csv", csv_bytes())
        for code in ("INV-0001", "INV-0002", "OKÄND-9"):
            receive(session, station, batch, code)
        for name, serial, tag in (("certified", "WD-1", "INV-0001"),
                                  ("destroyed", "WD-2", "INV-0002"),
                                  ("loose", "WD-3", None)):  # fmt: skip
            device = devices.new_device(session, batch, drive(serial))
            if tag:
                link(session, station, device, assets.find_asset(session, batch, tag))
            ids[name] = device.id
        # States are set by hand up to the step under test; from there the station's own
        # writers move them (lifecycle.advance, destruction), so the custody follows.
        certified = devices.find_device(session, ids["certified"])
        certified.state = "post_scanned"
        issued = issue_sanitization_certificate(
            session, station, certified, wipe_result=wipe_result(), pre_scan=None,
            post_scan=scan_report(),
        )  # fmt: skip
        lifecycle.advance(session, station, certified, State.CERTIFIED,
                          payload={"certificate_id": issued.cert_id})  # fmt: skip
        doomed = devices.find_device(session, ids["destroyed"])
        doomed.state, doomed.state_reason = "failed", "wipe failed: medium errors"
        record_destruction(session, station, doomed, method="shred",
                           destroyed_on=date(2026, 1, 5), witness="Kim Berg")  # fmt: skip
        devices.find_device(session, ids["loose"]).state = "sanitizing"
    return ids
