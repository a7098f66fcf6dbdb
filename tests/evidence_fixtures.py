"""Real inputs for evidence tests: a station with a customer, batch and device, results in the
shapes the wipe and scan engines produce, and a throwaway PostgreSQL server.

Loaded as a pytest plugin from `tests/conftest.py`, so every test directory can use them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asset_pipeline.drives.discovery import Drive
from asset_pipeline.evidence import audit
from asset_pipeline.station.config import new_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Device, batches, devices, operators

# Values that must never reach a certificate, log or report, planted where a careless
# implementation would copy them from (scan report locations, wipe error text, ...).
PLANTED = (
    "19811218-9876",
    "811218-9876",
    "anna.svensson@example.se",
    "4111 1111 1111 1111",
    "SE45 5000 0000 0583 9825 7466",
    "Anna Svensson",
)


def drive(serial: str = "WD-WCC6Y1234567", path: str = "/dev/loop9") -> Drive:
    """An identified SATA hard disk, as `devices.identify` would return it."""
    return Drive(
        path=path,
        name=Path(path).name,
        kind="block",
        transport="sata",
        media_type="hdd",
        model="WDC WD10EZEX-08WN4A0",
        vendor="WDC",
        serial=serial,
        firmware="01.01A01",
        wwn="0x50014ee2b5e6a3f1",
        size_bytes=1_000_204_886_016,
        logical_sector_size=512,
        physical_sector_size=4096,
        rotational=True,
        removable=False,
        read_only=False,
        partitions=(),
        holders=(),
        mountpoints=(),
        system=False,
        writable=True,
    )


SIZE = 1_000_204_886_016


def overwrite_step(pattern: str = "random", **changes: Any) -> dict[str, Any]:
    """One overwrite pass, as `wipe.OverwriteResult.to_dict()` gives it."""
    step: dict[str, Any] = {
        "step": "overwrite",
        "pattern": pattern,
        "key_id": "3f9a1c2b7d0e4a61" if pattern == "random" else "",
        "size_bytes": SIZE,
        "bytes_written": SIZE,
        "seconds": 1637.4,
        "mb_per_s": 610.9,
        "errors": [],
        "retried": [],
        "outcome": "passed",
    }
    step.update(changes)
    return step


def wipe_result(**changes: Any) -> dict[str, Any]:
    """A passed Clear overwrite, in the wipe engine's result JSON shape (`WipeResult.to_dict`)."""
    result: dict[str, Any] = {
        "target": "/dev/loop9",
        "size_bytes": SIZE,
        "plan": {
            "level": "clear",
            "method": "overwrite-random-zero",
            "reason": "single-pass AES-256-CTR keystream is NIST Clear",
            "category": "clear",
            "media_type": "hdd",
            "passes": ["random", "zeros"],
            "alternatives": [],
        },
        "steps": [overwrite_step("random"), overwrite_step("zeros")],
        "bytes_written": 2 * SIZE,
        "errors": [],
        "verification": {
            "method": "sample",
            "expected": "zeros",
            "coverage": 0.0125,
            "bytes_read": 12_502_561_075,
            "seconds": 61.2,
            "mb_per_s": 204.3,
            "seed": 123456789,
            "sections": 64,
            "mismatches": [],
            "mismatched_bytes": 0,
            "read_errors": [],
            "retried": [],
            "notes": [],
            "outcome": "passed",
        },
        "hidden_areas": {"status": "none", "hidden_sectors": 0},
        "health": {"status": "passed", "source": "smartctl -H -A"},
        "outcome": "passed",
        "reason": "",
        "started_at": "2026-11-27T08:00:00Z",
        "ended_at": "2026-11-27T08:58:00Z",
        "duration_s": 3480.0,
    }
    result.update(changes)
    return result


def scan_report(findings: dict[str, tuple[int, int]] | None = None, **changes: Any) -> dict:
    """A scan report in the device scan's JSON shape; locations carry planted values."""
    findings = findings or {}
    report: dict[str, Any] = {
        "target": "/dev/loop9",
        "size_bytes": 1_000_204_886_016,
        "bytes_scanned": 1_000_204_886_016,
        "duration_s": 41.5,
        "passes": ["raw", "files"],
        "findings": {c: {"count": n, "distinct": d} for c, (n, d) in findings.items()},
        "locations": [
            {"category": c, "file": f"/home/{PLANTED[2]}/{PLANTED[5]}/{value}.docx", "count": n}
            for c, (n, _) in findings.items()
            for value in PLANTED  # every planted value reaches the input
        ],
        "not_scannable": [],
    }
    report.update(changes)
    return report


PRE_FINDINGS = {"personnummer": (14, 6), "email": (3, 2), "person_name": (9, 4)}


OPERATOR = ("Örjan Ekström", "Tekniker", "+46 60 12 34 56")
VALIDATOR = ("Lena Holm", "Kvalitetsansvarig", "+46 60 12 34 57")


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    """An initialized station in a temp data directory (config, key, SQLite database).

    It certifies for a real organisation, and its operator and a second one (for
    second-person validation) are registered.
    """
    st = Station(data_dir=tmp_path / "station")
    st.initialize(
        new_config(
            "Återbruk Norrland AB",
            OPERATOR[0],
            org_number="556677-8899",
            site="Sundsvall",
            station_name="bänk-3",
        )
    )
    with st.session() as session:
        for name, title, contact in (OPERATOR, VALIDATOR):
            operators.add_operator(session, name, title=title, contact=contact)
    yield st
    st.close()


DeviceFactory = Callable[..., int]


@pytest.fixture
def add_device(station: Station) -> DeviceFactory:
    """Register a device in a fresh batch (one customer and agreement); returns its id."""
    counter = {"n": 0}

    def make(*, level: str = "clear", state: str = "registered", serial: str | None = None) -> int:
        counter["n"] += 1
        n = counter["n"]
        with station.session() as session:
            customer = _customer(session)
            agreement = batches.add_agreement(
                session,
                customer=customer,
                reference=f"PUB-2026-Ö{n}",
                required_level=level,
                discovery_instructed=True,
                retention_years=7,
            )
            batch = batches.open_batch(session, agreement, order_number=f"PO-47{n:02d}")
            device = register_device(
                session, batch, drive(serial or f"WD-WCC6Y{n:07d}"), asset_tag=f"INV-{n:04d}"
            )
            device.state = state
            audit.append_event(
                session,
                station_id=station.config.station_id,
                operator=station.operator,
                event_type="device.registered",
                payload={"serial": device.serial},
                batch_id=batch.id,
                device_id=device.id,
            )
            return device.id

    return make


def register_device(session: Any, batch: Any, drive: Drive, *, asset_tag: str = "") -> Device:
    """A device stored straight in state `registered`, outside the pipeline's steps.

    For evidence tests that need a device at a given state without running the pipeline; the
    station itself only changes states through `flow.lifecycle.advance`.
    """
    device = devices.new_device(session, batch, drive)
    device.asset_tag = asset_tag
    device.state = "registered"
    return device


def _customer(session: Any) -> Any:
    from sqlalchemy import select

    from asset_pipeline.storage import Customer

    found = session.scalar(select(Customer).where(Customer.name == "Åre kommun"))
    return found or batches.add_customer(session, "Åre kommun", "212000-2411")


def load_device(session: Any, device_id: int) -> Device:
    """The device row in `session`."""
    return devices.find_device(session, device_id)


# --- a throwaway PostgreSQL server -------------------------------------------------------


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server started for this test session (initdb + pg_ctl, as a non-root user).

    Skipped when the server binaries are not installed (Debian package `postgresql`).
    """
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="ap-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        name = "postgres" if _user_exists("postgres") else "nobody"
        user = pwd.getpwnam(name)
        os.chown(workdir, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    data, port = workdir / "data", _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(workdir)}
    run = {"check": True, "capture_output": True, "env": env, "cwd": workdir, **run_as}
    try:
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", "ap", "--auth=trust", "-E", "UTF8"], **run
        )
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-o", options, "-l", workdir / "log", "-w", "start"],
            **run,
        )
    except subprocess.CalledProcessError as e:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {e.stderr.decode(errors='replace')[-500:]}")
    try:
        yield f"postgresql+psycopg://ap@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
            **{**run, "check": False},
        )
        time.sleep(0.2)
        shutil.rmtree(workdir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def legacy_signed(document: dict[str, Any], key: Any, schema_version: int = 2) -> Any:
    """`document` re-signed as releases before RFC 8785 wrote it (schema 2, the old encoding)."""
    from asset_pipeline.evidence.canonical import canonical_bytes
    from asset_pipeline.evidence.signing import SignedDocument

    unsigned = {k: v for k, v in document.items() if k not in ("signature", "canonicalization")}
    unsigned["schema_version"] = schema_version
    signed = {
        **unsigned,
        "signature": {
            "algorithm": "Ed25519",
            "key_fingerprint": key.fingerprint,
            "value": key.sign(canonical_bytes(unsigned)).hex(),
        },
    }
    return SignedDocument(document=signed, data=canonical_bytes(signed))
