"""What a certificate says: built from plain inputs, with the invariants checked here too.

The fields follow NIST SP 800-88 Rev. 2 §4.6 (the certificate of sanitization: the media and
where it came from, pre-sanitization categorization, method and technique, tool and version,
verification, validation, post-sanitization categorization and destination, and the people
involved), with the techniques named as IEEE 2883-2022 names them (`techniques`), plus the
customer binding and the scan summaries. Scan summaries keep counts only: no locations (a file
path can itself be personal data), no reasons in free text. Values are numbers, ids and codes;
the page says them in Swedish and English (`layout`, `i18n`).

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
from asset_pipeline.evidence import techniques
from asset_pipeline.evidence.assurance import assurance_record
from asset_pipeline.storage import Agreement, Asset, Batch, Device

METHOD_TYPES = {"clear": "Clear", "purge": "Purge"}
LEVEL_RANK = {"clear": 1, "purge": 2}
CLASSIFICATIONS = ("unclassified",)
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
        "validation": agreement.validation,
        "batch_id": batch.id,
        "order_number": batch.order_number,
    }


def media(device: Device) -> dict[str, Any]:
    """The NIST "media information" block from the device row.

    `property_number` is the organisation's property number (the customer's asset tag on the
    drive itself, when it has one).
    """
    identity = device.identity or {}
    return {
        "device_id": device.id,
        "manufacturer": str(identity.get("vendor") or ""),
        "model": device.model,
        "serial": device.serial,
        "wwn": device.wwn,
        "firmware": device.firmware,
        "property_number": device.asset_tag,
        "media_type": device.media_type,
        "interface": device.transport,
        "capacity_bytes": device.size_bytes,
        "logical_sector_size": device.logical_sector_size,
    }


def media_source(device: Device, batch: Batch) -> dict[str, Any]:
    """Where the medium came from: the customer and, once linked, the asset (computer) it was in.

    `asset` stays None until the drive is linked to a received asset of the customer's asset
    list (intake: `process --asset`, `watch --require-tag`, `--asset-dmi`); then it names that
    asset as the customer's list does. `source_machine` is the machine in words (make, model,
    serial), also what the operator typed when there was no asset list.
    """
    customer = batch.agreement.customer
    return {
        "customer": customer.name,
        "customer_org_number": customer.org_number,
        "asset": None if device.asset is None else asset_reference(device.asset),
        "source_machine": device.source_machine,
    }


def asset_reference(asset: Asset) -> dict[str, Any]:
    """The customer asset a drive came from: its id here and its tag, serial, type and model."""
    return {
        "asset_id": asset.id,
        "asset_tag": asset.asset_tag,
        "serial": asset.serial,
        "type": asset.kind,
        "make": asset.make,
        "model": asset.model,
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
    device: Device,
    pre: dict[str, Any] | None,
    post: dict[str, Any] | None,
    destination: str,
    classification: str,
    notes: Sequence[str],
) -> dict[str, Any]:
    """The schema-2 sanitization, verification and assurance blocks, once `check_sanitized` passed.

    NIST SP 800-88 Rev. 2 §4.6 content: the method (Clear / Purge) and the technique as IEEE
    2883-2022 names it, tool and version, verification method and coverage, the assurance
    record, pre- and post-sanitization categorization and the media destination. Every value
    is a number, an id or a code the certificate catalogue translates; the English `reason`
    of the plan is kept for the record but the page shows `reason_code`.
    """
    wipe = as_dict(wipe_result)
    check_sanitized(agreement, wipe, post)
    if destination not in DESTINATIONS:
        raise CertificateRefused(f"media destination {destination!r} is not one of {DESTINATIONS}")
    plan = wipe.get("plan") or {}
    verification = wipe.get("verification") or {}
    category = str(plan.get("category") or plan["level"]).lower()
    try:
        ieee = techniques.describe({**plan, "category": category}, device.transport)
    except KeyError as e:
        raise CertificateRefused(f"wipe method {plan.get('method')!r} has no IEEE 2883 name") from e
    return {
        "pre_sanitization": pre_categorization(agreement, pre),
        "sanitization": {
            "method": techniques.nist_method(category),
            "ieee_2883": ieee,
            "reason_code": reason_code(plan, device.media_type),
            "reason": str(plan.get("reason", "")),
            "steps": [step_record(i, step) for i, step in enumerate(wipe.get("steps") or [])],
            "tool": str(wipe.get("tool") or "asset-pipeline"),
            "tool_version": str(wipe.get("tool_version") or __version__),
            "target": str(wipe.get("target", "")),
            "bytes_written": int(wipe.get("bytes_written") or 0),
            "started_at": wipe.get("started_at"),
            "ended_at": wipe.get("ended_at"),
        },
        "verification": {
            "method": str(verification.get("method")),
            "expected": str(verification.get("expected") or ""),
            "coverage": verification.get("coverage"),
            "bytes_read": int(verification.get("bytes_read") or 0),
            "seconds": float(verification.get("seconds") or 0.0),
            "seed": verification.get("seed"),
            "mismatches": 0,
            "result": "passed",
        },
        "assurance": assurance_record(wipe, device.media_type),
        "post_sanitization": {"categorization": classification, "destination": destination},
        "notes": list(notes),
    }


def pre_categorization(agreement: Agreement, pre: Mapping[str, Any] | None) -> dict[str, Any]:
    """The pre-sanitization confidentiality categorization: agreement plus pre-scan counts.

    `personal_data_present` is None when no pre-scan was instructed (nothing is known), so
    the customer's DPA (personal data under GDPR) is the categorization.
    """
    if pre is None:
        return {"basis": "agreement", "personal_data_present": None, "categories": []}
    found = sorted(c for c, counts in pre["findings"].items() if counts["count"])
    return {"basis": "pre-scan", "personal_data_present": bool(found), "categories": found}


def reason_code(plan: Mapping[str, Any], media_type: str) -> str:
    """Why this method, as a code: the plan's English reason says the same in more words."""
    method = str(plan.get("method", ""))
    reason = str(plan.get("reason", ""))
    if reason.startswith("requested by the operator"):
        return "requested"
    if method.startswith("overwrite"):
        return "overwrite-clear"
    if media_type in ("ssd", "nvme", "usb", "emmc"):
        return "firmware-flash"
    return "firmware-purge"


def step_record(index: int, step: Any) -> dict[str, Any]:
    """One step of the wipe, as numbers the page turns into a sentence."""
    if not isinstance(step, Mapping):
        return {"kind": "other", "index": index + 1}
    if step.get("step") == "overwrite":
        return {
            "kind": "overwrite",
            "index": index + 1,
            "pattern": str(step.get("pattern", "")),
            "key_id": str(step.get("key_id", "")),
            "bytes_written": int(step.get("bytes_written") or 0),
            "seconds": float(step.get("seconds") or 0.0),
            "mb_per_s": float(step.get("mb_per_s") or 0.0),
            "write_errors": len(step.get("errors") or []),
            "retried_ranges": len(step.get("retried") or []),
        }
    if step.get("step") == "firmware":
        name = str(step.get("method", ""))
        entry = techniques.TECHNIQUES.get(name)
        return {
            "kind": "firmware",
            "index": index + 1,
            "method": name,
            "command": entry.command if entry else name,
            "seconds": float(step.get("seconds") or 0.0),
            "outcome": str(step.get("outcome", "")),
        }
    return {"kind": "other", "index": index + 1}


def _count(value: Any) -> int:
    if value is None or value is False:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value
    return len(value)
