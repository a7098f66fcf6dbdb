"""The assurance record of a sanitization: what the tool reported, and what it did not reach.

NIST SP 800-88 Rev. 2 asks for sanitization assurance: verification that the technique
completed (the tool's completion status, every error, the media's health) before a decision
is taken on it. This module reads the wipe result the wipe library produced and states, as
codes the certificate catalogue translates:

- `completion_status`, every error and every retried range (writes and reads that failed at
  first and succeeded later: their ranges and counts);
- drive health before and after, or that it was not checked;
- `not_reached`: an explicit list of what the method cannot reach or did not check (spare and
  over-provisioned flash under an overwrite, remapped sectors, hidden areas not checked, the
  part of the device a sample read-back did not read, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLASH = ("ssd", "nvme", "usb", "emmc")
VIRTUAL = ("image", "virtual")
MAX_RANGES = 20  # ranges listed per kind; the counts always cover all of them


def assurance_record(wipe: Mapping[str, Any], media_type: str) -> dict[str, Any]:
    """The `assurance` block of a schema-2 certificate of sanitization."""
    plan = wipe.get("plan") or {}
    verification = wipe.get("verification") or {}
    errors = [_range(e) for e in wipe.get("errors") or []]
    retried = [
        _range({"step": _step_label(i, step), **r})
        for i, step in enumerate(wipe.get("steps") or [])
        for r in (step.get("retried") or [] if isinstance(step, Mapping) else [])
    ] + [_range({"step": "verify", **r}) for r in verification.get("retried") or []]
    return {
        "completion_status": _completion(wipe),
        "errors": {"count": len(errors), "ranges": errors[:MAX_RANGES]},
        "retries": {
            "count": len(retried),
            "bytes": sum(r["length"] for r in retried),
            "ranges": retried[:MAX_RANGES],
        },
        "health": {
            "before": _health(wipe.get("health_before", wipe.get("health"))),
            "after": _health(wipe.get("health_after")),
        },
        "not_reached": not_reached(plan, verification, wipe, media_type),
    }


def not_reached(
    plan: Mapping[str, Any],
    verification: Mapping[str, Any],
    wipe: Mapping[str, Any],
    media_type: str,
) -> list[dict[str, Any]]:
    """What the method cannot reach or the run did not check, as `{"code", ...}` entries."""
    found: list[dict[str, Any]] = []
    host_overwrite = str(plan.get("method", "")).startswith("overwrite")
    if host_overwrite and media_type in FLASH:
        found.append({"code": "flash-spare-area"})
    elif host_overwrite and media_type == "hdd":
        found.append({"code": "reallocated-sectors"})
    elif not host_overwrite:
        found.append({"code": "firmware-reported"})
    if media_type in VIRTUAL:
        found.append({"code": "backing-store-copies"})
    hidden = wipe.get("hidden_areas")
    status = hidden.get("status") if isinstance(hidden, Mapping) else None
    if status in (None, "not-checked"):
        found.append({"code": "hidden-areas-not-checked"})
    elif status in ("present", "could-not-be-removed"):
        found.append(
            {"code": "hidden-areas-left", "sectors": int(hidden.get("hidden_sectors") or 0)}
        )
    coverage = verification.get("coverage")
    if isinstance(coverage, int | float) and coverage < 1:
        found.append({"code": "not-read-back", "fraction": round(1 - float(coverage), 6)})
    before = _health(wipe.get("health_before", wipe.get("health")))
    if before["status"] in ("unknown", "not-checked"):
        found.append({"code": "health-unknown"})
    return found


def _completion(wipe: Mapping[str, Any]) -> str:
    outcome = str(wipe.get("outcome", ""))
    if outcome != "passed":
        return outcome or "unknown"
    steps = [s for s in wipe.get("steps") or [] if isinstance(s, Mapping)]
    if steps and all(s.get("outcome", "passed") == "passed" for s in steps):
        return "completed"
    return "completed" if not steps else "completed-with-warnings"


def _health(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value.get("status"):
        return {"status": "not-checked", "source": ""}
    return {"status": str(value["status"]), "source": str(value.get("source") or "")}


def _range(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "step": str(entry.get("step", "")),
        "offset": int(entry.get("offset") or 0),
        "length": int(entry.get("length") or 0),
        "error": str(entry.get("error") or ""),
    }


def _step_label(index: int, step: Any) -> str:
    if isinstance(step, Mapping) and step.get("step") == "overwrite":
        return f"pass {index + 1} {step.get('pattern', '')}".strip()
    return f"step {index + 1}"
