"""Upgrading a station database that already holds evidence, as a station in use has one.

The fresh-database tests (`test_storage`) cannot see what rows change: here a station issues a
certificate, its database is taken back one revision with Alembic (as `alembic downgrade -1`
does), and the station's own `upgrade` brings it to head again with every row in place.
"""

from __future__ import annotations

import pytest
from evidence_fixtures import PRE_FINDINGS, load_device, scan_report, wipe_result
from sqlalchemy import create_engine, inspect, text

from asset_pipeline.errors import StorageError
from asset_pipeline.evidence import issuing
from asset_pipeline.station.context import Station
from asset_pipeline.storage import create_station_engine, upgrade
from asset_pipeline.storage.db import alembic_config, current_revision, head_revision

BEFORE_INTAKE = "0005_people_and_validation"


@pytest.fixture
def used_database(station: Station, add_device) -> str:
    """The URL of a station database at the revision before intake, with a certificate in it."""
    with station.session() as session:
        device = load_device(session, add_device(state="post_scanned"))
        issuing.issue_sanitization_certificate(
            session, station, device, wipe_result=wipe_result(),
            pre_scan=scan_report(PRE_FINDINGS), post_scan=scan_report(),
        )  # fmt: skip
    url = station.database_url
    station.close()
    _downgrade(url, BEFORE_INTAKE)
    return url


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    engine = create_engine(url)  # a plain engine, as the alembic command line makes one
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("device", "certificate", "audit_event", "batch")
        }


@pytest.mark.parametrize("revision", [BEFORE_INTAKE, "0004_pipeline"])
def test_a_database_with_certificates_upgrades_and_keeps_every_row(
    used_database: str, revision: str
) -> None:
    """From before intake, and from before operators (whose revision alters `agreement`)."""
    _downgrade(used_database, revision)
    engine = create_station_engine(used_database)  # foreign keys enforced, as the station runs
    assert current_revision(engine) == revision
    assert "asset" not in inspect(engine).get_table_names()
    before = _counts(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _counts(engine) == before
    assert {"asset", "manifest", "custody_event"} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT asset_id FROM device")).scalars().all() == [None]
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        # Enforcement is back on for the connections the station goes on using.
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_a_migration_that_fails_halfway_changes_nothing(used_database: str) -> None:
    engine = create_station_engine(used_database)
    with engine.begin() as connection:  # the intake revision's third table, already there
        connection.execute(text("CREATE TABLE custody_event (id INTEGER PRIMARY KEY)"))
    with pytest.raises(StorageError, match="custody_event already exists"):
        upgrade(engine)
    assert current_revision(engine) == BEFORE_INTAKE
    tables = set(inspect(engine).get_table_names())
    assert not {"asset", "manifest"} & tables  # the two made before the failure are gone
    assert "asset_id" not in {c["name"] for c in inspect(engine).get_columns("device")}
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_a_log_from_before_signed_heads_becomes_the_stations_tree(
    station: Station, used_database: str
) -> None:
    """0008 rebuilds every station's tree from the events; the station then signs on top."""
    from asset_pipeline.evidence import audit
    from asset_pipeline.evidence.audit_check import verify_chain, verify_trees

    engine = create_station_engine(used_database)
    upgrade(engine)
    _downgrade(used_database, "0007_fleet")  # the log as the previous release left it
    with engine.connect() as connection:
        assert "log_node" not in inspect(engine).get_table_names()
        events = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    upgrade(engine)
    engine.dispose()
    with station.session() as session:
        indexes = session.execute(text("SELECT leaf_index FROM audit_event ORDER BY seq"))
        assert [i for (i,) in indexes] == list(range(events))
        report = verify_trees(session)  # the certificate's head is consistent with the rebuild
        assert report.ok, report.problem
        assert report.heads_checked == 1
        audit.append_event(session, station_id=station.config.station_id, operator="x",
                           event_type="device.registered")  # fmt: skip
    with station.session() as session:
        assert verify_chain(session).ok
        report = verify_trees(session)
        assert report.ok, report.problem
        assert report.sizes[station.config.station_id] == events + 1
