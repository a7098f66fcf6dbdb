"""`watch --require-tag`: a drive waits in its bay for its asset's scanned tag, then is linked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from intake_lists import csv_bytes
from sqlalchemy import select

from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.storage import Device, assets, batches
from tests.asset_pipeline.flow.conftest import open_batch, verify_certificate
from tests.conftest import needs_loop


def _next_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert got, f"watch printed nothing for {timeout} s"
    assert got[0], "watch ended"
    return json.loads(got[0])


@needs_loop
def test_a_drive_waits_for_its_tag_and_is_linked_to_that_asset(
    station, make_loop, customer_drive, tmp_path: Path
) -> None:
    batch = open_batch(station, discovery=False)
    with station.session() as session:
        import_manifest(session, station, batches.find_batch(session, batch), "l.csv", csv_bytes())
    drive = customer_drive()
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(station.data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "watch", "--batch", str(batch), "--bays",
         f"{tmp_path}/kund-*.img", "--require-tag", "--max-devices", "1", "--json"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lines = []
    try:
        dev = make_loop(image=drive.image)
        lines.append(_next_line(proc, timeout=180))
        assert (lines[0]["name"], lines[0]["status"], lines[0]["asset_tag"]) == (
            dev.name,
            "waiting",
            "",
        )
        assert lines[0]["note"] == "scan the tag of the asset this drive came from"
        proc.stdin.write("INV-404\ninv-0002\n")  # a mistyped tag, then the asset's own
        proc.stdin.flush()
        while not lines or lines[-1]["status"] != "done":
            lines.append(_next_line(proc, timeout=300))
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        stderr = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    working = [line for line in lines if line["status"] == "working"]
    assert {line["asset_tag"] for line in working} == {"INV-0002"}  # the pairing, in the table
    final = lines[-1]
    assert (final["state"], final["asset_tag"]) == ("certified", "INV-0002")
    assert "INV-404: no asset of batch" in stderr
    assert "INV-0002: plug in its drive" in stderr
    verify_certificate(station, final["certificate"])
    with station.session() as session:
        device = session.scalar(select(Device).where(Device.batch_id == batch))
        asset = assets.find_asset(session, batches.find_batch(session, batch), "INV-0002")
        assert (device.asset_id, device.asset_tag) == (asset.id, "INV-0002")
        assert [c.step for c in asset.custody] == ["received", "drive_removed", "drive_processed"]
        assert asset.custody[0].detail["via"] == "bay"  # first seen at the bay, not the reception
