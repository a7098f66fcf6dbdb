"""`asset-pipeline agreement add|list`."""

from __future__ import annotations

import json


def test_add_agreement_defaults_controller_to_customer(run_cli) -> None:
    run_cli("customer", "add", "Kommunen AB", "--org-number", "212000-0142")
    result = run_cli(
        "agreement",
        "add",
        "DPA-1",
        "--customer",
        "Kommunen AB",
        "--level",
        "purge",
        "--discovery",
        "--retention-years",
        "10",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["controller_name"] == "Kommunen AB"
    assert row["controller_org_number"] == "212000-0142"
    assert (row["required_level"], row["discovery_instructed"], row["retention_years"]) == (
        "purge",
        True,
        10,
    )


def test_unknown_customer(run_cli) -> None:
    result = run_cli("agreement", "add", "DPA-1", "--customer", "Nobody", "--level", "clear")
    assert result.exit_code == 1
    assert result.stderr == "Error: no customer Nobody\n"


def test_bad_level_is_a_usage_error(run_cli) -> None:
    run_cli("customer", "add", "K")
    result = run_cli("agreement", "add", "DPA-1", "--customer", "K", "--level", "shred")
    assert result.exit_code == 2
    assert "Invalid value for '--level'" in result.stderr


def test_duplicate_reference(run_cli) -> None:
    run_cli("customer", "add", "K")
    run_cli("agreement", "add", "DPA-1", "--customer", "K", "--level", "clear")
    result = run_cli("agreement", "add", "DPA-1", "--customer", "K", "--level", "clear")
    assert result.stderr == "Error: agreement 'DPA-1' already exists\n"


def test_list_filters_by_customer(run_cli) -> None:
    run_cli("customer", "add", "A")
    run_cli("customer", "add", "B")
    run_cli("agreement", "add", "DPA-A", "--customer", "A", "--level", "clear")
    run_cli("agreement", "add", "DPA-B", "--customer", "B", "--level", "purge")
    rows = json.loads(run_cli("agreement", "list", "--customer", "B", "--json").stdout)
    assert [r["reference"] for r in rows] == ["DPA-B"]


def test_second_person_validation_is_recorded(run_cli) -> None:
    import json

    run_cli("customer", "add", "K")
    default = json.loads(run_cli("agreement", "add", "D1", "--customer", "K", "--level", "clear",
                                 "--json").stdout)  # fmt: skip
    assert default["validation"] == "operator"
    second = run_cli("agreement", "add", "D2", "--customer", "K", "--level", "purge",
                     "--validation", "second-person", "--json")  # fmt: skip
    assert json.loads(second.stdout)["validation"] == "second-person"
    bad = run_cli("agreement", "add", "D3", "--customer", "K", "--level", "clear",
                  "--validation", "nobody")  # fmt: skip
    assert bad.exit_code == 2
    assert "--validation" in bad.stderr
