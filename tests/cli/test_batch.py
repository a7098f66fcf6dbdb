"""`asset-pipeline batch open|close|list|show`."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def agreement(run_cli) -> str:
    run_cli("customer", "add", "Kommunen AB")
    run_cli("agreement", "add", "DPA-1", "--customer", "Kommunen AB", "--level", "clear")
    return "DPA-1"


def test_open_list_show_close(run_cli, agreement: str) -> None:
    opened = json.loads(
        run_cli("batch", "open", "--agreement", agreement, "--order", "PO-7", "--json").stdout
    )
    assert (opened["id"], opened["status"], opened["order_number"]) == (1, "open", "PO-7")
    shown = json.loads(run_cli("batch", "show", "1", "--json").stdout)
    assert shown["agreement"] == "DPA-1"
    assert shown["devices"] == []
    closed = json.loads(run_cli("batch", "close", "1", "--json").stdout)
    assert closed["status"] == "closed"
    assert closed["closed_at"].endswith("Z")
    assert json.loads(run_cli("batch", "list", "--open", "--json").stdout) == []
    assert len(json.loads(run_cli("batch", "list", "--json").stdout)) == 1


def test_batch_for_unknown_agreement(run_cli) -> None:
    result = run_cli("batch", "open", "--agreement", "DPA-404")
    assert result.exit_code == 1
    assert result.stderr == "Error: no agreement DPA-404\n"
    assert json.loads(run_cli("batch", "list", "--json").stdout) == []


def test_close_twice(run_cli, agreement: str) -> None:
    run_cli("batch", "open", "--agreement", agreement)
    run_cli("batch", "close", "1")
    result = run_cli("batch", "close", "1")
    assert result.exit_code == 1
    assert result.stderr == "Error: batch 1 is already closed\n"


def test_unknown_batch(run_cli) -> None:
    result = run_cli("batch", "show", "99")
    assert (result.exit_code, result.stderr) == (1, "Error: no batch 99\n")


def test_batch_id_must_be_a_number(run_cli) -> None:
    result = run_cli("batch", "show", "abc")
    assert result.exit_code == 2
    assert "Invalid value for 'BATCH_ID'" in result.stderr
