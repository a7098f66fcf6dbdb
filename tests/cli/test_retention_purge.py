"""`asset-pipeline retention purge --dry-run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from evidence_fixtures import load_device

from asset_pipeline.station.context import Station


def test_dry_run_lists_what_is_past_retention(run_cli, station: Station, add_device) -> None:
    device_id = add_device()
    with station.session() as session:
        load_device(session, device_id).batch.closed_at = datetime(2019, 3, 1, tzinfo=UTC)
    early = run_cli("retention", "purge", "--dry-run", "--as-of", "2026-02-28", "--json")
    assert json.loads(early.stdout) == []
    late = run_cli("retention", "purge", "--dry-run", "--as-of", "2026-03-02", "--json")
    items = json.loads(late.stdout)
    assert [(i["batch_id"], i["kind"], i["kept_until"]) for i in items] == [
        (1, "audit_events", "2026-03-01")
    ]


def test_purge_without_dry_run_refuses(run_cli, station: Station) -> None:
    result = run_cli("retention", "purge")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: retention purge only lists for now: add --dry-run")
