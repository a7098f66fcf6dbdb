"""Building and checking a fleet run: stations on one database, their drives, their evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from asset_pipeline.demo.drive import build_demo_drive
from asset_pipeline.evidence.signing import read_document
from asset_pipeline.evidence.verify import verify_bytes
from asset_pipeline.intake.importer import import_manifest
from asset_pipeline.intake.receiving import receive
from asset_pipeline.station.config import StationConfig
from asset_pipeline.station.context import Station
from asset_pipeline.storage import AuditEvent, Certificate, Device, batches, operators, stations

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("station_worker.py")
MiB = 1024 * 1024

# Every state of a device whose agreement instructs discovery, each logged exactly once.
EVENTS = [
    "device.detected", "device.identified", "device.guarded", "device.registered",
    "device.pre_scanned", "device.sanitizing", "device.verified", "device.post_scanned",
    "device.closed", "certificate.issued", "device.certified",
]  # fmt: skip


@dataclass
class Fleet:
    """N stations (own data directories, ids and keys) on one database, and one open batch."""

    url: str
    stations: list[Station]
    batch_id: int
    drives: dict[str, list[str]] = field(default_factory=dict)  # station id -> "DEV[=TAG]"
    assets: bool = False  # the batch has an asset list; each drive is linked to its asset


def asset_tag(station: int, drive: int) -> str:
    """The customer's asset tag of a station's drive (one laptop per drive)."""
    return f"INV-S{station}D{drive:02d}"


def make_fleet(
    root: Path, url: str, count: int, *, discovery: bool = True, assets_per_station: int = 0
) -> Fleet:
    """Initialize `count` stations on `url` (each registers its key) and open one batch.

    With `assets_per_station`, the batch gets the customer's asset list (one laptop per drive)
    and every asset is received, so each drive can be linked to its asset.
    """
    fleet_stations = []
    tag = os.urandom(3).hex()
    for n in range(count):
        st = Station(data_dir=root / f"station-{n}", db_url=url)
        config = StationConfig(station_id=f"bench-{n}-{tag}", organization="Refurb AB",
                               operator=f"tekniker-{n}-{tag}", site=f"Umeå bänk {n}")  # fmt: skip
        st.initialize(config)
        fleet_stations.append(st)
    with fleet_stations[0].session() as session:
        for st in fleet_stations:  # certificates name a registered person
            operators.add_operator(session, st.operator, title="Tekniker",
                                   contact="verkstad@refurb.example")  # fmt: skip
        customer = batches.add_customer(session, f"Region Västerbotten {tag}", "232100-0222")
        agreement = batches.add_agreement(session, customer=customer, reference=f"DPA-{tag}",
                                          required_level="clear", discovery_instructed=discovery,
                                          retention_years=7)  # fmt: skip
        batch = batches.open_batch(session, agreement, order_number=f"PO-{tag}")
        if assets_per_station:
            rows = ["Inventarienummer,Serienummer,Typ"] + [
                f"{asset_tag(n, k)},SN{tag}{n}{k:02d},Laptop"
                for n in range(count)
                for k in range(assets_per_station)
            ]
            import_manifest(session, fleet_stations[0], batch, "lista.csv",
                            "\n".join(rows).encode())  # fmt: skip
            for n in range(count):
                for k in range(assets_per_station):
                    receive(session, fleet_stations[0], batch, asset_tag(n, k))
        batch_id = batch.id
    return Fleet(url, fleet_stations, batch_id, assets=bool(assets_per_station))


def build_drives(root: Path, make_loop: Any, fleet: Fleet, per_station: int, size: int) -> None:
    """Synthetic customer drives on loop devices, `per_station` for each station."""
    for n, st in enumerate(fleet.stations):
        devs = []
        for k in range(per_station):
            drive = build_demo_drive(root / f"drives/s{n}-d{k}.img", seed=1000 * n + k, size=size)
            dev = str(make_loop(image=drive.image))
            devs.append(f"{dev}={asset_tag(n, k)}" if fleet.assets else dev)
        fleet.drives[st.config.station_id] = devs


def start_stations(fleet: Fleet) -> list[subprocess.Popen]:
    """One process per station, each working through its own drives."""
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(st.data_dir),
                fleet.url,
                str(fleet.batch_id),
                *fleet.drives[st.config.station_id],
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for st in fleet.stations
    ]


def outcomes(procs: list[subprocess.Popen], timeout: float) -> list[dict[str, Any]]:
    """Every station's outcome lines, once all have ended (asserting each exited cleanly)."""
    found = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert "Traceback" not in err, err[-3000:]
        found += [json.loads(line) for line in out.splitlines() if line.strip()]
    return found


def device_events(session: Any, device_id: int) -> list[str]:
    """A device's event types in log order."""
    query = select(AuditEvent.event_type).where(AuditEvent.device_id == device_id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def check_history(session: Any, device: Device) -> list[str]:
    """Assert the device's logged states form one unbroken path to its stored state.

    Every `device.<state>` event says which state it left (`from`): a lost event leaves a gap
    (an event leaving a state that was never entered), a duplicated one leaves a state twice. A
    step repeated after a lost connection is a new transition (`sanitizing` -> `sanitizing`),
    which the state machine allows, and is not a duplicate. Returns the event types.
    """
    query = select(AuditEvent).where(AuditEvent.device_id == device.id).order_by(AuditEvent.id)
    events = list(session.scalars(query))
    state = None
    for event in events:
        kind = event.event_type
        if not kind.startswith("device.") or kind == "device.closed":
            continue
        to = kind.split(".", 1)[1]
        if state is not None:
            assert event.payload.get("from") == state, (device.id, kind, event.payload, state)
        state = to
    assert state == device.state, (device.id, state, device.state)
    return [e.event_type for e in events]


def check_certificates(session: Any, batch_id: int) -> dict[str, int]:
    """Verify every certificate of the batch with its signer's registered key; count by station.

    Each is checked like the verification page does it: the key comes from the registry by the
    document's fingerprint, and the issuer named inside must be that key's station.
    """
    per_station: dict[str, int] = {}
    query = select(Certificate).where(Certificate.batch_id == batch_id,
                                      Certificate.kind == "sanitization")  # fmt: skip
    for cert in session.scalars(query):
        signed = read_document(cert.document.encode())
        row = stations.key_by_fingerprint(session, signed.key_fingerprint)
        assert row is not None, f"{cert.cert_id}: signer not registered"
        assert signed.document["issuer"]["station_id"] == row.station_id
        report = verify_bytes(signed.data, stations.public_key_of(row), session=session,
                              station_id=row.station_id)  # fmt: skip
        assert report.ok, (cert.cert_id, report.checks)
        per_station[row.station_id] = per_station.get(row.station_id, 0) + 1
    return per_station


def batch_devices(session: Any, batch_id: int) -> list[Device]:
    """The batch's devices."""
    query = select(Device).where(Device.batch_id == batch_id).order_by(Device.id)
    return list(session.scalars(query))
