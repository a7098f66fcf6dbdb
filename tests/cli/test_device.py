"""`asset-pipeline device validate`: a second person accepts or rejects a sanitized device."""

from __future__ import annotations

import json

from evidence_fixtures import OPERATOR, VALIDATOR, load_device

from tests.asset_pipeline.flow.test_validation import sanitized


def test_validate_accept_issues_the_certificate(run_cli, station, add_device) -> None:
    device_id = sanitized(station, add_device)
    same = run_cli("device", "validate", str(device_id), "--operator", OPERATOR[0], "--accept")
    assert same.exit_code == 1
    assert same.stderr == (
        f"Error: {OPERATOR[0]} performed the sanitization of device {device_id}; a second, "
        "different operator must validate it\n"
    )
    done = run_cli("device", "validate", str(device_id), "--operator", VALIDATOR[0], "--accept",
                   "--json")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["decision"], out["state"], out["validated_by"]) == (
        "accept", "certified", VALIDATOR[0])  # fmt: skip
    verified = run_cli("cert", "verify", out["certificate_pdf"], "--json")
    assert verified.exit_code == 0, verified.stdout


def test_validate_needs_a_decision_and_a_known_operator(run_cli, station, add_device) -> None:
    device_id = sanitized(station, add_device)
    none = run_cli("device", "validate", str(device_id), "--operator", VALIDATOR[0])
    assert none.exit_code == 2
    assert "say --accept or --reject" in none.stderr
    unknown = run_cli("device", "validate", str(device_id), "--operator", "Nobody", "--accept")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("Error: no operator 'Nobody' is registered")
    rejected = run_cli("device", "validate", str(device_id), "--operator", VALIDATOR[0],
                       "--reject", "--reason", "skadad etikett")  # fmt: skip
    assert rejected.exit_code == 0
    with station.session() as session:
        assert load_device(session, device_id).state == "failed"
