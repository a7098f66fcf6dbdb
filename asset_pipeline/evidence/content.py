"""What a certificate says: built from plain inputs, with the invariants checked here too.

The fields follow NIST SP 800-88 Rev. 1 Appendix G (who performed the sanitization, the media,
method type and technique, tool, verification, post-sanitization classification and
destination) plus the customer binding and the scan summaries. Scan summaries keep counts
only: no locations (a file path can itself be personal data), no reasons in free text.

Invariant 1 of the design (no certificate of sanitization unless the sanitize step completed,
verification passed and the post-scan found nothing) is enforced in `sanitization_body`,
whatever the caller checked before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from asset_pipeline import __version__
from asset_pipeline.errors import CertificateRefused
from asset_pipeline.storage import Agreement, Batch, Device

METHOD_TYPES = {"clear": "Clear", "purge": "Purge"}
LEVEL_RANK = {"clear": 1, "purge": 2}
DESTINATIONS = ("reuse", "recycle", "destroy", "return_to_customer")
DESTRUCTION_METHODS = ("shred", "disintegrate", "pulverize", "incinerate", "melt", "crush")


def as_dict(value: Any) -> dict[str, Any]:
    """A result given as a dict, a dataclass or an object with `to_dict()`, as a dict."""
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "to_dict"):
        return dict(value.to_dict())
    raise TypeError(f"expected a mapping, got {type(value).__name__}")


def customer_binding(batch: Batch) -> dict[str, Any]:
    """Who the device belongs to and under which agreement it was handled."""
    agreement: Agreement = batch.agreement
    return {
        "customer_name": agreement.customer.name,
        "customer_org_number": agreement.customer.org_number,
        "controller_name": agreement.controller_name,
        "controller_org_number": agreement.controller_org_number,
        "agreement_reference": agreement.reference,
        "required_level": agreement.required_level,
        "batch_id": batch.id,
        "order_number": batch.order_number,
    }


def media(device: Device) -> dict[str, Any]:
    """The NIST "media information" block from the device row."""
    identity = device.identity or {}
    return {
        "device_id": device.id,
        "manufacturer": str(identity.get("vendor") or ""),
        "model": device.model,
        "serial": device.serial,
        "wwn": device.wwn,
        "firmware": device.firmware,
        "asset_tag": device.asset_tag,
        "media_type": device.media_type,
        "interface": device.transport,
        "capacity_bytes": device.size_bytes,
        "logical_sector_size": device.logical_sector_size,
        "source_machine": device.source_machine,
    }


def scan_summary(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Counts from a scan report (the issue-4 JSON shape); nothing that could be a value."""
    if report is None:
        return None
    report = as_dict(report)
    findings = report.get("findings") or {}
    counts = {
        str(category): {
            "count": int(entry.get("count", 0)),
            "distinct": int(entry.get("distinct", 0)),
        }
        for category, entry in sorted(findings.items())
    }
    return {
        "passes": [str(p) for p in report.get("passes", [])],
        "size_bytes": int(report.get("size_bytes", 0)),
        "bytes_scanned": int(report.get("bytes_scanned", 0)),
        "duration_s": float(report.get("duration_s", 0.0)),
        "findings": counts,
        "total_findings": sum(c["count"] for c in counts.values()),
        "locations": len(report.get("locations") or []),
        "not_scannable": len(report.get("not_scannable") or []),
    }


def check_sanitized(
    agreement: Agreement, wipe: Mapping[str, Any], post: dict[str, Any] | None
) -> None:
    """Invariant 1: raise unless sanitize completed, verification passed, post-scan clean.

    Raises:
        CertificateRefused: naming the first condition that does not hold.
    """
    plan = wipe.get("plan") or {}
    level = str(plan.get("level", "")).lower()
    if level == "destroy" or str(plan.get("method", "")).lower() == "destroy":
        raise CertificateRefused("the plan ends in destroy: record a certificate of destruction")
    if wipe.get("outcome") != "passed":
        raise CertificateRefused(f"sanitization outcome is {wipe.get('outcome')!r}, not 'passed'")
    if level not in METHOD_TYPES:
        raise CertificateRefused(f"sanitization level {level!r} is not clear or purge")
    if LEVEL_RANK[level] < LEVEL_RANK.get(agreement.required_level, 0):
        raise CertificateRefused(
            f"agreement {agreement.reference} requires {agreement.required_level}, "
            f"the sanitization reached {level}"
        )
    if _count(wipe.get("errors")):
        raise CertificateRefused(f"sanitization recorded {_count(wipe.get('errors'))} error(s)")
    verification = wipe.get("verification") or {}
    if not verification.get("method"):
        raise CertificateRefused("sanitization was not verified")
    if _count(verification.get("mismatches")):
        raise CertificateRefused(
            f"verification found {_count(verification.get('mismatches'))} mismatch(es)"
        )
    if post is None:
        raise CertificateRefused("no post-sanitization scan was given")
    if post["total_findings"]:
        raise CertificateRefused(f"the post-scan found {post['total_findings']} finding(s)")
    if post["not_scannable"]:
        raise CertificateRefused(
            f"the post-scan could not read {post['not_scannable']} region(s); nothing is proven"
        )


def sanitization_body(
    wipe_result: Any,
    *,
    agreement: Agreement,
    post: dict[str, Any] | None,
    destination: str,
    classification: str,
    notes: Sequence[str],
) -> dict[str, Any]:
    """The `sanitization` and `verification` blocks, after `check_sanitized` passed."""
    wipe = as_dict(wipe_result)
    check_sanitized(agreement, wipe, post)
    if destination not in DESTINATIONS:
        raise CertificateRefused(f"media destination {destination!r} is not one of {DESTINATIONS}")
    plan = wipe.get("plan") or {}
    verification = wipe.get("verification") or {}
    return {
        "sanitization": {
            "method_type": METHOD_TYPES[str(plan["level"]).lower()],
            "technique": str(plan.get("method", "")),
            "reason": str(plan.get("reason", "")),
            "steps": list(wipe.get("steps") or []),
            "tool": str(wipe.get("tool") or "asset-pipeline"),
            "tool_version": str(wipe.get("tool_version") or __version__),
            "target": str(wipe.get("target", "")),
            "bytes_written": int(wipe.get("bytes_written") or 0),
            "started_at": wipe.get("started_at"),
            "ended_at": wipe.get("ended_at"),
        },
        "verification": {
            "method": str(verification.get("method")),
            "coverage": verification.get("coverage"),
            "mismatches": 0,
            "result": "passed",
        },
        "post_sanitization_classification": classification,
        "media_destination": destination,
        "notes": list(notes),
        "exceptions": hidden_area_exceptions(wipe),
    }


def hidden_area_exceptions(wipe: Mapping[str, Any]) -> list[str]:
    """Exceptions to state: hidden areas (HPA/DCO) the wipe could not remove or reach."""
    exceptions = []
    areas = wipe.get("hidden_areas") or {}
    for name, outcome in sorted(areas.items()) if isinstance(areas, Mapping) else ():
        state = outcome.get("outcome") if isinstance(outcome, Mapping) else outcome
        if state not in (None, "absent", "none", "removed", "erased"):
            exceptions.append(f"hidden area {name.upper()}: {state}; not sanitized")
    return exceptions


def _count(value: Any) -> int:
    if value is None or value is False:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value
    return len(value)
