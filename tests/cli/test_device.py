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


def test_a_device_of_a_batch_closed_while_it_waited_gets_no_certificate(
    run_cli, station, add_device
) -> None:
    """Forced close while the device waits for the second person: accepting it fails it."""
    device_id = sanitized(station, add_device)
    with station.session() as session:
        batch_id = load_device(session, device_id).batch_id
    refused = run_cli("batch", "close", str(batch_id))
    assert refused.exit_code == 1  # the device is mid-pipeline
    forced = run_cli("batch", "close", str(batch_id), "--force", "--reason", "kunden hämtar")
    assert forced.exit_code == 0, forced.stderr
    late = run_cli("device", "validate", str(device_id), "--operator", VALIDATOR[0], "--accept",
                   "--json")  # fmt: skip
    assert late.exit_code == 1
    assert late.stderr == (
        f"Error: device {device_id} failed: batch {batch_id} was closed: kunden hämtar\n"
    )
    assert json.loads(late.stdout)["certificate_id"] is None
    with station.session() as session:
        device = load_device(session, device_id)
        assert (device.state, device.state_reason) == (
            "failed", f"batch {batch_id} was closed: kunden hämtar",
        )  # fmt: skip
        assert not [c for c in device.batch.devices if c.state == "certified"]
    report = run_cli("batch", "reconcile", str(batch_id), "--json")
    counts = json.loads(report.stdout)["counts"]
    assert (counts["failed"], counts["in_pipeline"], counts["certified"]) == (1, 0, 0)
