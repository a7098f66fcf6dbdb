"""Commands that end in a certificate refuse, before touching a drive, to certify for the
placeholder organisation or for an operator nobody registered."""

from __future__ import annotations

import pytest


@pytest.fixture
def batch(run_cli) -> str:
    run_cli("init")
    run_cli("customer", "add", "Kommunen")
    run_cli("agreement", "add", "DPA-1", "--customer", "Kommunen", "--level", "clear")
    run_cli("batch", "open", "--agreement", "DPA-1")
    return "1"


def test_watch_refuses_the_placeholder_organisation(run_cli, batch: str) -> None:
    result = run_cli("watch", "--batch", batch)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the station's organisation is still the placeholder 'Refurbisher AB'; name it "
        "first: asset-pipeline init --organization NAME --org-number NUMBER --site SITE\n"
    )


def test_watch_refuses_an_unregistered_operator(run_cli, batch: str) -> None:
    run_cli("init", "--organization", "Återbruk AB")
    result = run_cli("watch", "--batch", batch, "--operator", "Okänd")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no operator 'Okänd' is registered (add one: ")
