"""Batch access tokens: 128 random bits, shown once, stored only as a hash."""

from __future__ import annotations

import json
import re
import sqlite3

from asset_pipeline.storage import access, batches


def test_close_prints_a_token_that_opens_only_its_batch(run_cli, station_home) -> None:
    run_cli("customer", "add", "Kommunen AB")
    run_cli("agreement", "add", "DPA-1", "--customer", "Kommunen AB", "--level", "clear")
    run_cli("batch", "open", "--agreement", "DPA-1")
    run_cli("batch", "open", "--agreement", "DPA-1")
    first = json.loads(run_cli("batch", "close", "1", "--json").stdout)["access_token"]
    text = run_cli("batch", "close", "2")
    second = re.search(r"access_token\s+(\S+)", text.stdout).group(1)
    assert "shown only once" in text.stderr
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{8}){3}", first)
    assert first != second
    raw = bytes.fromhex(first.replace("-", ""))
    assert len(raw) == 16
    # The database holds neither the token nor its bytes in any form, only their SHA-256.
    db = (station_home / "station.db").read_bytes()
    for form in (first, first.replace("-", ""), raw, raw.hex().upper().encode()):
        assert (form.encode() if isinstance(form, str) else form) not in db
    rows = sqlite3.connect(station_home / "station.db").execute(
        "SELECT batch_id, token_sha256 FROM batch_access ORDER BY batch_id"
    )
    assert [r[0] for r in rows] == [1, 2]


def test_a_token_is_read_as_typed_and_unknown_tokens_open_nothing(station) -> None:
    with station.session() as session:
        customer = batches.add_customer(session, "Kund")
        agreement = batches.add_agreement(session, customer=customer, reference="D",
                                          required_level="clear", discovery_instructed=False,
                                          retention_years=1)  # fmt: skip
        batch = batches.open_batch(session, agreement)
        token = access.issue_token(session, batch)
        typed = token.upper().replace("-", " ")
        assert access.batch_for_token(session, typed).id == batch.id
        assert access.batch_for_token(session, "0" * 32) is None
        assert access.batch_for_token(session, token[:-1]) is None
        assert access.batch_for_token(session, token + "0") is None
        assert access.batch_for_token(session, "x" * 10_000) is None
