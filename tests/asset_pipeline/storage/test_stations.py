"""The fleet's key registry: stations register their key on first contact, keys retire."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from asset_pipeline.errors import KeyFileError, RegistryConflict, StationNotFound, StationRetired
from asset_pipeline.station.config import new_config, write_config
from asset_pipeline.station.context import Station
from asset_pipeline.storage import RegisteredKey, sqlite_url, stations
from asset_pipeline.storage.db import create_station_engine
from asset_pipeline.storage.transactions import transaction


def _station(root: Path, name: str, url: str, station_id: str | None = None) -> Station:
    st = Station(data_dir=root / name, db_url=url)
    config = new_config("Refurb AB", "tekniker")
    if station_id:
        config = type(config)(station_id=station_id, organization=config.organization,
                              operator=config.operator, site="Umeå")  # fmt: skip
    st.initialize(config)
    return st


def _rows(st: Station) -> list[RegisteredKey]:
    with st.session() as session:
        return stations.list_keys(session)


def test_each_station_registers_its_key_on_first_contact(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", url, "bench-a")
    b = _station(tmp_path, "b", url, "bench-b")
    rows = _rows(a)
    assert [(r.station_id, r.fingerprint, r.status) for r in rows] == [
        ("bench-a", a.key.fingerprint, "active"),
        ("bench-b", b.key.fingerprint, "active"),
    ]
    assert stations.public_key_of(rows[1]) == b.key.public_key
    assert rows[0].site == "Umeå"
    # Opening again (every command does) adds nothing.
    Station(data_dir=a.data_dir, db_url=url).sessions()
    assert len(_rows(b)) == 2


def test_a_copied_data_directory_under_a_new_id_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", url, "bench-a")
    shutil.copytree(a.data_dir, tmp_path / "copy")
    config = a.config
    write_config(tmp_path / "copy", type(config)(station_id="bench-z", organization="x",
                                                 operator="y"))  # fmt: skip
    with pytest.raises(RegistryConflict, match="registered to station bench-a, not bench-z"):
        Station(data_dir=tmp_path / "copy", db_url=url).sessions()


def test_two_machines_with_one_station_id_are_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    _station(tmp_path, "a", url, "bench-a")
    with pytest.raises(RegistryConflict, match="station id bench-a is registered with another key"):
        _station(tmp_path, "a-twin", url, "bench-a")


def test_a_retired_key_signs_nothing_more_and_its_id_may_return_with_a_new_key(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", url, "bench-a")
    b = _station(tmp_path, "b", url, "bench-b")
    old = a.key.fingerprint
    with b.session() as session:
        row = stations.retire(session, "bench-a", "laptop stolen", by="lena")
        assert (row.status, row.retired_by) == ("retired", "lena")
    with pytest.raises(StationRetired, match="retired on .*: laptop stolen"):
        Station(data_dir=a.data_dir, db_url=url).sessions()
    replacement = _station(tmp_path, "a-new", url, "bench-a")
    with replacement.session() as session:
        assert stations.active_key(session, "bench-a").fingerprint == replacement.key.fingerprint
        retired = stations.key_by_fingerprint(session, old)
        assert retired.status == "retired"
        assert stations.public_key_of(retired) == a.key.public_key  # still verifiable


def test_retire_needs_a_reason_and_an_active_key(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", url, "bench-a")
    with a.session() as session:
        with pytest.raises(ValueError, match="needs a reason"):
            stations.retire(session, "bench-a", "  ", by="x")
        with pytest.raises(StationNotFound):
            stations.retire(session, "bench-404", "gone", by="x")
        stations.retire(session, a.key.fingerprint, "decommissioned", by="x")
        with pytest.raises(StationNotFound):
            stations.retire(session, a.key.fingerprint, "again", by="x")


def test_a_swapped_public_key_in_the_registry_is_caught(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", url, "bench-a")
    b = _station(tmp_path, "b", url, "bench-b")
    engine = create_station_engine(url)
    from sqlalchemy.orm import sessionmaker

    with transaction(sessionmaker(engine)) as session:
        row = session.scalar(select(RegisteredKey).where(RegisteredKey.station_id == "bench-a"))
        # An attacker with database access points bench-a's fingerprint at their own key.
        row.public_key_pem = _pem(b)
    with a.session() as session:
        row = stations.key_by_fingerprint(session, a.key.fingerprint)
        with pytest.raises(KeyFileError, match="is not the key"):
            stations.public_key_of(row)
    engine.dispose()


def _pem(st: Station) -> str:
    from asset_pipeline.station.keys import public_pem

    return public_pem(st.key.public_key)


REGISTER = (
    "import sys; from pathlib import Path; from asset_pipeline.station.context import Station; "
    "Station(data_dir=Path(sys.argv[1]), db_url=sys.argv[2]).sessions()"
)


def test_processes_of_one_station_registering_at_once_make_one_row(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fleet.db")
    a = _station(tmp_path, "a", sqlite_url(tmp_path / "own.db"), "bench-a")
    procs = [
        subprocess.Popen([sys.executable, "-c", REGISTER, str(a.data_dir), url],
                         stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]  # fmt: skip
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    assert [r.station_id for r in _rows(Station(data_dir=a.data_dir, db_url=url))] == ["bench-a"]
