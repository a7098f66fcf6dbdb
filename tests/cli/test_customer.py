"""`asset-pipeline customer add|list`."""

from __future__ import annotations

import json


def test_add_and_list(run_cli) -> None:
    added = run_cli("customer", "add", "Kommunen AB", "--org-number", "212000-0142", "--json")
    assert added.exit_code == 0
    assert json.loads(added.stdout)["name"] == "Kommunen AB"
    listed = json.loads(run_cli("customer", "list", "--json").stdout)
    assert [(c["id"], c["name"], c["org_number"]) for c in listed] == [
        (1, "Kommunen AB", "212000-0142")
    ]


def test_duplicate_customer_is_refused_once(run_cli) -> None:
    run_cli("customer", "add", "Kommunen AB")
    result = run_cli("customer", "add", "Kommunen AB")
    assert result.exit_code == 1
    assert result.stderr == "Error: customer 'Kommunen AB' already exists\n"
    assert len(json.loads(run_cli("customer", "list", "--json").stdout)) == 1


def test_empty_name_is_a_usage_error(run_cli) -> None:
    result = run_cli("customer", "add", "  ")
    assert result.exit_code == 2
    assert "Invalid value for NAME: must not be empty" in result.stderr


def test_table_output_names_the_customer(run_cli) -> None:
    run_cli("customer", "add", "Region Uppsala")
    assert "Region Uppsala" in run_cli("customer", "list").stdout
