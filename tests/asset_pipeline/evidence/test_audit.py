"""The processing log: chain building, tamper detection at the right seq, concurrent writers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from asset_pipeline.errors import PersonalDataRefused
from asset_pipeline.evidence import audit
from asset_pipeline.evidence.audit import GENESIS, event_digest
from asset_pipeline.evidence.audit_check import Anchor, verify_chain
from asset_pipeline.station.context import Station
from asset_pipeline.storage import AuditEvent, open_database, sqlite_url


def _append(station: Station, n: int, **kw) -> None:
    with station.session() as session:
        for i in range(n):
            audit.append_event(
                session,
                station_id="st-1",
                operator="Örjan",
                event_type="test.step",
                payload={"i": i, "ratio": i / 7, "method": "aes-ctr", "nested": {"ok": True}},
                batch_id=kw.get("batch_id"),
                device_id=kw.get("device_id"),
            )


def _verify(station: Station, anchors=()):
    with station.session() as session:
        return verify_chain(session, anchors=anchors)


def test_chain_links_every_event_to_the_previous_one(station: Station) -> None:
    _append(station, 5)
    with station.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(event_digest(e) == e.hash for e in events)  # read back from the database
    report = _verify(station)
    assert report.ok
    assert report.events == 5
    assert report.head_hash == events[-1].hash


def test_empty_log_verifies(station: Station) -> None:
    report = _verify(station)
    assert report.ok
    assert report.events == 0


def _sql(station: Station, *statements: str) -> None:
    with station.session() as session:
        for statement in statements:
            session.execute(text(statement))


def test_changed_payload_is_found_at_its_seq(station: Station) -> None:
    _append(station, 8)
    _sql(station, "UPDATE audit_event SET payload = '{\"i\": 99}' WHERE seq = 5")
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, "changed")


def test_changed_operator_is_found(station: Station) -> None:
    _append(station, 8)
    _sql(station, "UPDATE audit_event SET operator = 'mallory' WHERE seq = 3")
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "changed")


def test_deleted_row_is_found_at_its_seq(station: Station) -> None:
    _append(station, 8)
    _sql(station, "DELETE FROM audit_event WHERE seq = 4")
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (4, "deleted")


def test_deleted_row_with_renumbered_successors_is_found(station: Station) -> None:
    _append(station, 8)
    _sql(
        station,
        "DELETE FROM audit_event WHERE seq = 4",
        "UPDATE audit_event SET seq = -seq WHERE seq > 4",
        "UPDATE audit_event SET seq = -seq - 1 WHERE seq < 0",
    )
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (4, "deleted")


def _forge(station: Station, seq: int, *, rehash: bool) -> None:
    """Insert a fabricated event at `seq`, shifting later events up by one."""
    with station.session() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq >= seq).values(seq=-AuditEvent.seq))
        session.execute(
            update(AuditEvent).where(AuditEvent.seq < 0).values(seq=-AuditEvent.seq + 1)
        )
        prev = session.scalar(select(AuditEvent).where(AuditEvent.seq == seq - 1))
        forged = AuditEvent(
            seq=seq,
            station_id="st-1",
            operator="mallory",
            event_type="device.closed",
            payload={"outcome": "sanitized"},
            prev_hash=prev.hash,
            hash="f" * 64,
        )
        if rehash:
            forged.occurred_at = prev.occurred_at
            forged.hash = event_digest(forged)
        session.add(forged)


@pytest.mark.parametrize("rehash", [True, False], ids=["forged-hash", "bad-hash"])
def test_inserted_row_is_found_at_its_seq(station: Station, rehash: bool) -> None:
    _append(station, 8)
    _forge(station, 5, rehash=rehash)
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, "inserted")


def test_swapped_rows_are_found_as_reordered(station: Station) -> None:
    _append(station, 8)
    _sql(
        station,
        "UPDATE audit_event SET seq = -1 WHERE seq = 6",
        "UPDATE audit_event SET seq = 6 WHERE seq = 7",
        "UPDATE audit_event SET seq = 7 WHERE seq = -1",
    )
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (6, "reordered")


def test_replaced_row_with_valid_own_hash_is_found(station: Station) -> None:
    _append(station, 8)
    with station.session() as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.seq == 3))
        row.operator = "mallory"
        row.hash = event_digest(row)  # self-consistent, but event 4 was chained to the original
    broken = _verify(station).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "changed")


def test_truncated_log_is_found_through_a_certificate_seal(station: Station) -> None:
    _append(station, 6)
    with station.session() as session:
        sealed = session.scalar(select(AuditEvent).where(AuditEvent.seq == 6))
        anchor = Anchor(sealed.seq, sealed.hash, "certificate SAN-test")
    _sql(station, "DELETE FROM audit_event WHERE seq >= 5")
    assert _verify(station).ok  # the chain alone cannot see a cut tail...
    broken = _verify(station, anchors=[anchor]).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (6, "deleted")
    assert "SAN-test" in broken.detail


def test_payload_with_a_personal_data_value_is_withheld(station: Station) -> None:
    with station.session() as session:
        event = audit.append_event(
            session,
            station_id="st-1",
            operator="op",
            event_type="scan.failed",
            payload={"reason": "parse error near 19811218-9876", "serial": "811218-9876"},
        )
    assert event.payload["reason"] == "[withheld: looks like personnummer]"
    assert event.payload["serial"] == "811218-9876"  # identity fields are exempt


@pytest.mark.parametrize(
    "payload",
    [{"matched_text": "x"}, {"Value": 1}, {"data": b"bytes"}, {"snippet": "a"}],
)
def test_payload_structure_that_could_carry_values_is_refused(
    station: Station, payload: dict
) -> None:
    with station.session() as session, pytest.raises(PersonalDataRefused):
        audit.append_event(
            session, station_id="s", operator="o", event_type="scan.done", payload=payload
        )


def test_bad_event_type_is_refused(station: Station) -> None:
    with station.session() as session, pytest.raises(ValueError, match="dotted lowercase"):
        audit.append_event(session, station_id="s", operator="o", event_type="Scan Done")


APPENDER = textwrap.dedent(
    """
    import sys, time, random
    from pathlib import Path
    from asset_pipeline.evidence import audit
    from asset_pipeline.storage import open_database
    url, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    sessions = open_database(url)
    Path(f"{go}.{name}").touch()  # ready: imported and connected
    while not go.exists():
        time.sleep(0.005)
    for i in range(count):
        with sessions.begin() as session:
            audit.append_event(session, station_id=name, operator=name,
                               event_type="test.concurrent", payload={"i": i})
        time.sleep(random.random() * 0.003)  # give the other writer a chance at the lock
    """
)


def _run_concurrent_appenders(url: str, tmp_path: Path, count: int) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, url, name, str(count), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("writer-a", "writer-b")
    ]
    # Start both at once only when both are ready: under load one interpreter can take seconds
    # to import, and a late starter would find the other already done (no interleaving).
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{n}").exists() for n in ("writer-a", "writer-b")):
        assert all(p.poll() is None for p in procs), procs[0].communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the appenders never got ready"
        time.sleep(0.02)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]


def _assert_one_chain(url: str, count: int) -> None:
    sessions = open_database(url)
    with sessions.begin() as session:
        report = verify_chain(session)
        writers = list(session.scalars(select(AuditEvent.station_id).order_by(AuditEvent.seq)))
    assert report.ok, report.broken
    assert report.events == report.last_seq == 2 * count
    assert writers.count("writer-a") == writers.count("writer-b") == count
    switches = sum(1 for a, b in zip(writers, writers[1:], strict=False) if a != b)
    assert switches > 1, "the two writers never interleaved; the test proved nothing"
    sessions.kw["bind"].dispose()


def test_two_processes_appending_to_one_sqlite_file_keep_one_chain(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "shared.db")
    open_database(url).kw["bind"].dispose()  # migrate once before the writers race
    _run_concurrent_appenders(url, tmp_path, 150)
    _assert_one_chain(url, 150)


def test_two_processes_appending_to_postgresql_keep_one_chain(
    postgres_url: str, tmp_path: Path
) -> None:
    sessions = open_database(postgres_url)
    with sessions.begin() as session:
        session.execute(text("DELETE FROM audit_event"))
    sessions.kw["bind"].dispose()
    _run_concurrent_appenders(postgres_url, tmp_path, 150)
    _assert_one_chain(postgres_url, 150)
