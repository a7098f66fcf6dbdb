"""`asset-pipeline demo` (first form): a real synthetic drive, identified and registered."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import needs_loop


def _loops_backed_by(image: str) -> list[str]:
    out = subprocess.run(["losetup", "-j", image], capture_output=True, text=True).stdout
    return [line.split(":")[0] for line in out.splitlines() if line]


def test_demo_on_the_image_file(run_cli) -> None:
    result = run_cli("demo", "--no-loop", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["target"] == out["image"]
    device = out["device"]
    assert device["state"] == "certified"
    planted = out["planted"]["personnummer"] + out["planted_deleted"]["personnummer"]
    assert device["pre_scan"]["findings"]["personnummer"] == planted
    assert sum(device["post_scan"]["findings"].values()) == 0
    for path in (device["certificate_json"], device["certificate_pdf"], out["report_pdf"]):
        assert Path(path).exists()
    batch = json.loads(run_cli("batch", "show", str(out["batch_id"]), "--json").stdout)
    assert [d["state"] for d in batch["devices"]] == ["certified"]
    assert batch["agreement"] == "DEMO-DPA-2026"
    assert run_cli("cert", "verify", device["certificate_pdf"]).exit_code == 0


@needs_loop
def test_demo_attaches_a_loop_device_and_detaches_it(run_cli) -> None:
    result = run_cli("demo", "--loop", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["target"].startswith("/dev/loop")
    assert out["device"]["state"] == "certified"
    assert out["device"]["serial"] == Path(out["image"]).name
    assert _loops_backed_by(out["image"]) == []


def test_demo_twice_reuses_customer_and_agreement(run_cli) -> None:
    run_cli("demo", "--no-loop")
    run_cli("demo", "--no-loop")
    assert len(json.loads(run_cli("customer", "list", "--json").stdout)) == 1
    assert len(json.loads(run_cli("batch", "list", "--json").stdout)) == 2
