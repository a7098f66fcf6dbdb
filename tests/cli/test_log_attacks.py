"""`log verify` against someone with write access to the database and no station key.

The station processes three devices (two certified, one failed), a few events follow the last
certificate, and an auditor keeps a checkpoint (`log checkpoint -o`) and the last certificate's
PDF. The attacker then edits the SQLite file directly and, where it helps, recomputes every
hash it can: the chain, the leaf positions and the stored Merkle nodes. Each attack must make
`log verify --anchor ...` exit 1 with one line; the table also pins down which attacks the
stored heads alone catch (no anchor held), so the README's claims stay true.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text

from asset_pipeline.errors import StorageError
from asset_pipeline.evidence import audit, issuing, log_tree, merkle
from asset_pipeline.evidence.audit import GENESIS, event_digest
from asset_pipeline.evidence.canonical import canonical_bytes
from asset_pipeline.evidence.log_tree import leaf_data
from asset_pipeline.station.context import Station
from asset_pipeline.station.keys import fingerprint, public_pem
from asset_pipeline.storage import (
    AuditEvent,
    Certificate,
    LatestHead,
    LogNode,
    RegisteredKey,
    TreeHead,
    open_database,
    sqlite_url,
    utcnow,
)
from tests.evidence_fixtures import load_device, scan_report, wipe_result

STEPS = ("device.identified", "device.sanitizing", "device.verified", "device.post_scanned")


@dataclass
class Held:
    """What the auditor keeps away from the station."""

    checkpoint: Path
    certificate: Path
    db: Path


@pytest.fixture
def held(station: Station, add_device, run_cli, tmp_path: Path, monkeypatch) -> Held:
    monkeypatch.setenv("ASSET_PIPELINE_HOME", str(station.data_dir))
    ids = [add_device() for _ in range(3)]
    sid = station.config.station_id
    with station.session() as session:
        for device_id in ids:
            for step in STEPS:
                audit.append_event(session, station_id=sid, operator=station.operator,
                                   event_type=step, device_id=device_id)  # fmt: skip
    last = None
    for device_id in ids[:2]:
        with station.session() as session:
            last = issuing.issue_sanitization_certificate(
                session, station, load_device(session, device_id),
                wipe_result=wipe_result(), pre_scan=None, post_scan=scan_report(),
            )  # fmt: skip
    with station.session() as session:  # after the last seal: a failure and the bookkeeping
        for event_type in ("device.failed", "device.certified", "device.certified"):
            audit.append_event(session, station_id=sid, operator="op",
                               event_type=event_type, device_id=ids[2])  # fmt: skip
    checkpoint = tmp_path / "held" / "checkpoint.json"
    checkpoint.parent.mkdir()
    assert run_cli("log", "checkpoint", "-o", str(checkpoint)).exit_code == 0
    assert last is not None
    copy = checkpoint.parent / "cert.pdf"
    copy.write_bytes(last.pdf_path.read_bytes())
    assert (
        run_cli("log", "verify", "--anchor", str(checkpoint), "--anchor", str(copy)).exit_code == 0
    )
    return Held(checkpoint, copy, station.data_dir / "station.db")


# --- the attacker's tools: database access and our published algorithms, no key --------------


def _sessions(db: Path):
    return open_database(sqlite_url(db))


def rehash_everything(db: Path) -> None:
    """Renumber, re-chain, re-position every leaf and rebuild every stored node."""
    sessions = _sessions(db)
    with sessions.begin() as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        for row in rows:
            row.seq, row.leaf_index = -row.seq, None
        session.flush()
        prev, positions = GENESIS, {}
        for n, row in enumerate(rows, start=1):
            row.seq, row.prev_hash = n, prev
            row.hash = prev = event_digest(row)
            row.leaf_index = positions.get(row.station_id, 0)
            positions[row.station_id] = row.leaf_index + 1
        session.execute(delete(LogNode))
        for station_id in positions:
            mine = [r for r in rows if r.station_id == station_id]
            tree = merkle.levels([merkle.leaf_hash(leaf_data(r.hash)) for r in mine])
            for level, hashes in enumerate(tree):
                session.add_all(
                    LogNode(station_id=station_id, level=level, idx=i, hash=h)
                    for i, h in enumerate(hashes)
                )
    sessions.kw["bind"].dispose()


def sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as con:
        for statement in statements:
            con.execute(statement)


def _max_seq(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT max(seq) FROM audit_event").fetchone()[0]


def _events_after_last_seal(db: Path) -> int:
    with sqlite3.connect(db) as con:
        docs = [json.loads(d) for (d,) in con.execute("SELECT document FROM certificate")]
    return max(d["closing_event"]["seq"] for d in docs)


def delete_last_row(db: Path) -> None:
    sql(db, f"DELETE FROM audit_event WHERE seq = {_max_seq(db)}")


def cut_tail(db: Path) -> None:
    sql(db, f"DELETE FROM audit_event WHERE seq > {_max_seq(db) - 4}")
    rehash_everything(db)


def cut_tail_and_the_heads_that_show_it(db: Path) -> None:
    """Cut back to a certificate's head and make the latest head that one (all it has)."""
    with sqlite3.connect(db) as con:
        doc = json.loads(con.execute("SELECT document FROM certificate ORDER BY id").fetchone()[0])
    head = doc["log"]["head"]
    sql(
        db,
        f"DELETE FROM audit_event WHERE leaf_index >= {head['tree_size']}",
        f"DELETE FROM log_node WHERE idx * (1 << level) + (1 << level) > {head['tree_size']}",
        "DELETE FROM tree_head",
        "DELETE FROM certificate WHERE id > (SELECT min(id) FROM certificate)",
    )
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE latest_head SET tree_size = ?, document = ?",
            (head["tree_size"], canonical_bytes(head).decode()),
        )


def append_forged_row(db: Path) -> None:
    """A `device.closed` 'sanitized' for the failed device, with every hash recomputed."""
    sessions = _sessions(db)
    with sessions.begin() as session:
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        forged = AuditEvent(
            seq=last.seq + 1, occurred_at=utcnow(), station_id=last.station_id,
            operator=last.operator, batch_id=last.batch_id, device_id=last.device_id,
            event_type="device.closed", payload={"outcome": "sanitized"}, prev_hash=last.hash,
        )  # fmt: skip
        forged.hash = event_digest(forged)
        forged.leaf_index = last.leaf_index + 1
        session.add(forged)
    sessions.kw["bind"].dispose()
    rehash_everything(db)


def erase_one_devices_history(db: Path) -> None:
    with sqlite3.connect(db) as con:
        device = con.execute(
            "SELECT device_id FROM audit_event WHERE event_type = 'device.failed'"
        ).fetchone()[0]
    sql(db, f"DELETE FROM audit_event WHERE device_id = {device}")
    rehash_everything(db)


def rewrite_after_last_seal(db: Path) -> None:
    sql(
        db,
        'UPDATE audit_event SET payload = \'{"outcome": "sanitized"}\' '
        f"WHERE seq > {_events_after_last_seal(db)}",
    )
    rehash_everything(db)


def forge_head_without_the_key(db: Path) -> None:
    """Append a forged row, then a latest head 'signed' with a key the registry does not hold."""
    append_forged_row(db)
    _sign_latest(db, Ed25519PrivateKey.generate(), register=False)


def forge_head_with_a_key_registered_for_the_station(db: Path) -> None:
    """Rewrite, then register an own key for the station and sign the rewritten tree."""
    rewrite_after_last_seal(db)
    sql(db, "DELETE FROM tree_head", "DELETE FROM certificate")
    _sign_latest(db, Ed25519PrivateKey.generate(), register=True)


def _sign_latest(db: Path, key: Ed25519PrivateKey, *, register: bool) -> None:
    sessions = _sessions(db)
    with sessions.begin() as session:
        latest = session.scalar(select(LatestHead))
        station_id = latest.station_id
        size = int(session.scalar(text("SELECT count(*) FROM audit_event")))
        leaves = [merkle.leaf_hash(leaf_data(h)) for h in session.scalars(
            select(AuditEvent.hash).order_by(AuditEvent.seq))]  # fmt: skip
        fp = fingerprint(key.public_key())
        unsigned = json.loads(latest.document)
        unsigned.pop("signature")
        unsigned.update(tree_size=size, root_hash=merkle.root_of(leaves).hex(), key_fingerprint=fp)
        head = {**unsigned, "signature": key.sign(canonical_bytes(unsigned)).hex()}
        latest.tree_size, latest.document = size, canonical_bytes(head).decode()
        if register:
            session.add(RegisteredKey(station_id=station_id, fingerprint=fp,
                                      public_key_pem=public_pem(key.public_key())))  # fmt: skip
    sessions.kw["bind"].dispose()


def swap_two_rows(db: Path) -> None:
    n = _max_seq(db) - 2
    sql(
        db,
        f"UPDATE audit_event SET seq = -1 WHERE seq = {n}",
        f"UPDATE audit_event SET seq = {n} WHERE seq = {n + 1}",
        f"UPDATE audit_event SET seq = {n + 1} WHERE seq = -1",
    )


def swap_two_rows_rehashed(db: Path) -> None:
    swap_two_rows(db)
    rehash_everything(db)


def change_a_payload(db: Path) -> None:
    sql(db, 'UPDATE audit_event SET payload = \'{"outcome": "sanitized"}\' WHERE seq = 3')


def delete_a_middle_row_rehashed(db: Path) -> None:
    sql(db, "DELETE FROM audit_event WHERE seq = 3")
    rehash_everything(db)


def change_a_stored_node(db: Path) -> None:
    sql(db, "UPDATE log_node SET hash = zeroblob(32) WHERE level = 1 AND idx = 0")


def rewrite_everything_and_drop_every_head(db: Path) -> None:
    """Keep the length, rewrite all, remove every signed head and document that shows it."""
    sql(db, "UPDATE audit_event SET operator = 'mallory'")
    rehash_everything(db)
    sql(db, "DELETE FROM tree_head", "DELETE FROM certificate", "DELETE FROM latest_head")


def cut_tail_and_drop_every_head(db: Path) -> None:
    cut_tail(db)
    sql(db, "DELETE FROM tree_head", "DELETE FROM certificate", "DELETE FROM latest_head")


# (attack, caught by the stored heads alone, i.e. `log verify` without any --anchor)
ATTACKS: list[tuple[Callable[[Path], None], bool]] = [
    (delete_last_row, True),
    (cut_tail, True),
    (cut_tail_and_the_heads_that_show_it, False),
    (cut_tail_and_drop_every_head, False),
    (append_forged_row, True),
    (erase_one_devices_history, True),
    (rewrite_after_last_seal, True),
    (rewrite_everything_and_drop_every_head, False),
    (forge_head_without_the_key, True),
    (forge_head_with_a_key_registered_for_the_station, False),
    (swap_two_rows, True),
    (swap_two_rows_rehashed, True),
    (change_a_payload, True),
    (delete_a_middle_row_rehashed, True),
    (change_a_stored_node, True),
]


@pytest.mark.parametrize(
    ("attack", "caught_without_anchor"), ATTACKS, ids=[a.__name__ for a, _ in ATTACKS]
)
def test_attack_is_caught_by_log_verify(
    run_cli, held: Held, attack: Callable[[Path], None], caught_without_anchor: bool
) -> None:
    attack(held.db)
    anchored = run_cli(
        "log", "verify", "--anchor", str(held.checkpoint), "--anchor", str(held.certificate)
    )
    assert anchored.exit_code == 1, anchored.stdout
    assert anchored.stderr.startswith("Error: log broken")
    assert anchored.stderr.count("\n") == 1, anchored.stderr
    for anchor in (held.checkpoint, held.certificate):  # either one alone is enough
        assert run_cli("log", "verify", "--anchor", str(anchor)).exit_code == 1
    assert (run_cli("log", "verify").exit_code == 1) is caught_without_anchor


def test_a_cut_is_named_with_the_anchor_that_shows_it(run_cli, held: Held) -> None:
    cut_tail_and_drop_every_head(held.db)
    result = run_cli("log", "verify", "--anchor", str(held.checkpoint))
    assert result.stderr.startswith("Error: log broken: station ")
    assert "fewer than anchor checkpoint.json" in result.stderr
    assert result.stderr.endswith(": cut\n")


def test_appending_honestly_after_an_anchor_still_verifies(
    run_cli, held: Held, station: Station
) -> None:
    with station.session() as session:
        audit.append_event(session, station_id=station.config.station_id, operator="x",
                           event_type="device.registered")  # fmt: skip
    assert run_cli("log", "verify", "--anchor", str(held.checkpoint)).exit_code == 0


def test_a_forged_anchor_file_is_refused(run_cli, held: Held, tmp_path: Path) -> None:
    doc = json.loads(held.checkpoint.read_text())
    doc["tree_size"] -= 1  # a head that would excuse a cut, without the key to sign it
    forged = tmp_path / "forged.json"
    forged.write_bytes(canonical_bytes(doc))
    result = run_cli("log", "verify", "--anchor", str(forged))
    assert result.exit_code == 1
    assert "not signed by its station's key" in result.stderr


def test_a_replaced_stored_certificate_is_found_by_cert_verify(
    run_cli, held: Held, station: Station
) -> None:
    sessions = _sessions(held.db)
    with sessions.begin() as session:
        row = session.scalars(select(Certificate).order_by(Certificate.id.desc())).first()
        row.document = row.document.replace('"Clear"', '"Purge"')
    sessions.kw["bind"].dispose()
    result = run_cli("cert", "verify", "--db-url", sqlite_url(held.db), str(held.certificate))
    assert result.exit_code == 1
    assert "the database holds another document" in result.stderr


def test_the_station_will_not_sign_over_a_row_added_behind_its_back(station: Station) -> None:
    sid = station.config.station_id
    with station.session() as session:
        audit.append_event(session, station_id=sid, operator="x", event_type="device.registered")
    with station.session() as session:
        covered = session.get(LatestHead, sid).tree_size
        assert covered == log_tree.tree_size(session, sid)
        assert session.scalar(select(TreeHead)) is None  # commits keep only the latest head
    sessions = _sessions(station.data_dir / "station.db")
    with sessions.begin() as session:  # database access, no key: no head covers this row
        audit.append_event(session, station_id=sid, operator="x", event_type="device.registered")
    sessions.kw["bind"].dispose()
    with pytest.raises(StorageError, match="changed outside the station"), station.session() as s:
        audit.append_event(s, station_id=sid, operator="x", event_type="device.registered")
