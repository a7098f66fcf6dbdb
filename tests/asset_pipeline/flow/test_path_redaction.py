"""A value in a folder name reaches neither the database, the certificate nor the logs."""

from __future__ import annotations

import json
import logging

from evidence_fixtures import load_device, scan_report, wipe_result

from asset_pipeline.evidence import audit, issuing
from asset_pipeline.evidence.pdf import read_pdf
from asset_pipeline.flow import device_scan
from asset_pipeline.station.context import Station
from tests.scanners.disks import key  # noqa: F401 - shared fixture
from tests.scanners.test_pathnames import VALUES, named_disk  # noqa: F401 - shared fixture


def test_folder_names_holding_values_stay_out_of_every_output(
    station: Station,
    add_device,
    named_disk,  # noqa: F811
    caplog,
) -> None:
    caplog.set_level(logging.DEBUG)
    device_id = add_device()
    with station.session() as session:
        device = load_device(session, device_id)
        device.path = str(named_disk)
        row = device_scan.scan_device(session, device, "pre")
        assert row.report["findings"]["personnummer"]["distinct"] == 3  # names too
        issued = issuing.issue_sanitization_certificate(
            session,
            station,
            device,
            wipe_result=wipe_result(),
            pre_scan=row.report,
            post_scan=scan_report(),
        )
        events = json.dumps(
            [audit.event_record(e) for e in audit.batch_events(session, device.batch_id)],
            ensure_ascii=False,
        )
    station.close()  # checkpoints the WAL into the database file
    db = b"".join(p.read_bytes() for p in station.data_dir.glob("station.db*"))
    outputs = {
        "database file": db.decode("utf-8", errors="replace"),
        "certificate json": issued.signed.data.decode(),
        "certificate pdf text": read_pdf(issued.pdf_path.read_bytes()).text,
        "audit log": events,
        "python log": caplog.text,
    }
    for name, text in outputs.items():
        for value in VALUES:
            assert value not in text, f"{value!r} found in {name}"
    assert "Kund [personnummer]/avtal.txt" in outputs["database file"]
