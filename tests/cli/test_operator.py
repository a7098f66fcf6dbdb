"""`asset-pipeline operator add|list`."""

from __future__ import annotations

import json


def test_add_and_list(run_cli) -> None:
    added = run_cli("operator", "add", "Anna Berg", "--title", "Tekniker", "--contact",
                    "anna.berg@refurb.se", "--json")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "Anna Berg"
    run_cli("operator", "add", "Lena Holm", "--title", "Kvalitet", "--contact", "+46 60 1")
    listed = json.loads(run_cli("operator", "list", "--json").stdout)
    assert [(p["name"], p["title"], p["contact"]) for p in listed] == [
        ("Anna Berg", "Tekniker", "anna.berg@refurb.se"),
        ("Lena Holm", "Kvalitet", "+46 60 1"),
    ]
    log = json.loads(run_cli("log", "verify", "--json").stdout)
    assert log["status"] == "ok"


def test_duplicate_and_empty_values_are_one_line(run_cli) -> None:
    run_cli("operator", "add", "Anna Berg", "--title", "Tekniker", "--contact", "x")
    again = run_cli("operator", "add", "Anna Berg", "--title", "Tekniker", "--contact", "x")
    assert (again.exit_code, again.stderr) == (1, "Error: operator 'Anna Berg' already exists\n")
    empty = run_cli("operator", "add", "Bo", "--title", " ", "--contact", "x")
    assert empty.exit_code == 2
    assert "an operator needs a title" in empty.stderr
    missing = run_cli("operator", "add", "Bo", "--title", "Tekniker")
    assert missing.exit_code == 2
    assert "--contact" in missing.stderr
