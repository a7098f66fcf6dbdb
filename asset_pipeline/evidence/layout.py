"""What the PDF shows for each kind of signed document: titled sections of label/value rows.

Labels are bilingual (Swedish / English) because the customers are Swedish controllers; every
value comes from the signed JSON, so the page can never say more than the signature covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asset_pipeline.evidence.signing import BATCH_REPORT, DESTRUCTION, SANITIZATION

Rows = list[tuple[str, str]]
MAX_STEPS = 6


@dataclass(frozen=True)
class Layout:
    """A page's content: title, sections of rows and an optional table (batch reports)."""

    title: str
    subtitle: str
    sections: list[tuple[str, Rows]]
    table_header: tuple[str, ...] = ()
    table_rows: list[tuple[str, ...]] = field(default_factory=list)


def layout_for(doc: Mapping[str, Any]) -> Layout:
    """The layout of a signed document, chosen by its schema."""
    schema = doc.get("schema")
    if schema == SANITIZATION:
        return _sanitization(doc)
    if schema == DESTRUCTION:
        return _destruction(doc)
    if schema == BATCH_REPORT:
        return _batch_report(doc)
    raise ValueError(f"no PDF layout for schema {schema!r}")


def _issuer(doc: Mapping[str, Any]) -> tuple[str, Rows]:
    i = doc["issuer"]
    return (
        "Utfärdare / Issuer",
        [
            ("Organisation", i["organization"]),
            ("Station", f"{i['station_id']}" + (f" ({i['site']})" if i.get("site") else "")),
            ("Operatör / Operator", i["operator"]),
            ("Verktyg / Tool", f"{i['tool']} {i['tool_version']}"),
        ],
    )


def _customer(doc: Mapping[str, Any]) -> tuple[str, Rows]:
    c = doc["customer"]
    rows = [
        ("Kund / Customer", _with_number(c["customer_name"], c["customer_org_number"])),
        (
            "Personuppgiftsansvarig / Controller",
            _with_number(c["controller_name"], c["controller_org_number"]),
        ),
        ("Avtal (PUB) / Agreement (DPA)", c["agreement_reference"]),
        ("Krävd nivå / Required level", str(c["required_level"]).capitalize()),
        ("Parti / Batch", str(c["batch_id"])),
        ("Order", c["order_number"] or "-"),
    ]
    return "Kund / Customer", rows


def _media(doc: Mapping[str, Any]) -> tuple[str, Rows]:
    m = doc["media"]
    return (
        "Lagringsmedium / Media",
        [
            ("Tillverkare, modell / Make, model", _make_model(m["manufacturer"], m["model"])),
            ("Serienummer / Serial", m["serial"] or "-"),
            ("WWN", m["wwn"] or "-"),
            ("Inventarienr / Asset tag", m["asset_tag"] or "-"),
            ("Typ, gränssnitt / Type, interface", f"{m['media_type']}, {m['interface']}"),
            ("Kapacitet / Capacity", f"{_num(m['capacity_bytes'])} bytes"),
            ("Källdator / Source machine", m["source_machine"] or "-"),
        ],
    )


def _outcome(doc: Mapping[str, Any]) -> tuple[str, Rows]:
    p, e = doc["processing"], doc["closing_event"]
    rows = [
        ("Klassning efter / Post-sanitization class", doc["post_sanitization_classification"]),
        ("Destination", doc["media_destination"]),
        ("Start / End (UTC)", f"{p['started_at']} – {p['ended_at']}"),
        ("Logghändelse / Closing log event", f"#{e['seq']} {e['hash']}"),
    ]
    rows += [("Undantag / Exception", x) for x in doc.get("exceptions", [])]
    rows += [("Anteckning / Note", x) for x in doc.get("notes", [])]
    return "Resultat / Outcome", rows


def _sanitization(doc: Mapping[str, Any]) -> Layout:
    s, v, scans = doc["sanitization"], doc["verification"], doc["scans"]
    steps = [_step(step) for step in s["steps"][:MAX_STEPS]]
    if len(s["steps"]) > MAX_STEPS:
        steps.append(f"(+{len(s['steps']) - MAX_STEPS} more steps in the signed JSON)")
    method = [
        ("Metodtyp / Method type", f"{s['method_type']} (NIST SP 800-88)"),
        ("Teknik / Technique", s["technique"]),
        ("Motivering / Reason", s["reason"] or "-"),
        *[("Steg / Step", step) for step in steps],
        ("Verktyg / Tool", f"{s['tool']} {s['tool_version']}"),
        ("Skrivna bytes / Bytes written", _num(s["bytes_written"])),
    ]
    verification = [
        ("Metod / Method", v["method"]),
        ("Täckning / Coverage", _coverage(v["coverage"])),
        ("Resultat / Result", f"{v['result']} ({v['mismatches']} mismatches)"),
    ]
    scan_rows = [
        ("Före / Pre-scan", _scan(scans["pre"])),
        ("Efter / Post-scan", _scan(scans["post"])),
    ]
    return Layout(
        title="Certificate of Sanitization",
        subtitle="Intyg om sanering av lagringsmedium",
        sections=[
            _issuer(doc),
            _customer(doc),
            _media(doc),
            ("Sanering / Sanitization", method),
            ("Verifiering / Verification", verification),
            ("Sökning efter personuppgifter / Personal-data scans (counts only)", scan_rows),
            _outcome(doc),
        ],
    )


def _destruction(doc: Mapping[str, Any]) -> Layout:
    d = doc["destruction"]
    rows = [
        ("Metodtyp / Method type", f"{d['method_type']} (NIST SP 800-88)"),
        ("Teknik / Technique", d["technique"]),
        ("Datum / Date", d["destroyed_on"]),
        ("Vittne / Witness", d["witness"]),
        ("Anläggning / Facility", d["facility"] or "-"),
        ("Orsak / Reason", d["reason"]),
    ]
    return Layout(
        title="Certificate of Destruction",
        subtitle="Intyg om destruktion av lagringsmedium",
        sections=[
            _issuer(doc),
            _customer(doc),
            _media(doc),
            ("Destruktion / Destruction", rows),
            _outcome(doc),
        ],
    )


def _batch_report(doc: Mapping[str, Any]) -> Layout:
    t, b = doc["totals"], doc["batch"]
    totals = [
        ("Öppnad, stängd / Opened, closed", f"{b['opened_at']} – {b['closed_at'] or 'open'}"),
        ("Enheter / Devices", str(t["devices"])),
        ("Sanerade / Sanitized", str(t["sanitized"])),
        ("Destruerade / Destroyed", str(t["destroyed"])),
        ("Misslyckade, väntar / Failed, pending", str(t["failed_pending"])),
        ("Pågående / In progress", str(t["in_progress"])),
        (
            "Logghändelse / Closing log event",
            f"#{doc['closing_event']['seq']} {doc['closing_event']['hash']}",
        ),
    ]
    rows = [
        (
            str(d["device_id"]),
            d["model"],
            d["serial"] or "-",
            d["outcome"],
            d["method"] or "-",
            d["certificate_id"] or "-",
        )
        for d in doc["devices"]
    ]
    return Layout(
        title="Batch Report",
        subtitle="Rapport för parti",
        sections=[_issuer(doc), _customer(doc), ("Summering / Totals", totals)],
        table_header=(
            "ID",
            "Modell / Model",
            "Serienr / Serial",
            "Utfall / Outcome",
            "Metod / Method",
            "Intyg / Certificate",
        ),
        table_rows=rows,
    )


def _num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _make_model(make: str, model: str) -> str:
    if make and not model.lower().startswith(make.lower()):
        return f"{make} {model}"
    return model or make or "-"


def _coverage(coverage: Any) -> str:
    if isinstance(coverage, float) and 0 <= coverage <= 1:
        return f"{coverage * 100:.2f} % of the device"
    return str(coverage)


def _with_number(name: str, number: str) -> str:
    return f"{name} ({number})" if number else name


def _scan(summary: Mapping[str, Any] | None) -> str:
    if summary is None:
        return "not instructed by the agreement / ej instruerad"
    found = ", ".join(
        f"{category} {c['count']}" for category, c in summary["findings"].items() if c["count"]
    )
    return (
        f"{summary['total_findings']} findings ({found or 'none'}); "
        f"{_num(summary['bytes_scanned'])} of {_num(summary['size_bytes'])} bytes; "
        f"passes: {', '.join(summary['passes']) or '-'}"
    )


def _step(step: Any) -> str:
    if not isinstance(step, Mapping):
        return str(step)
    name = step.get("name") or step.get("kind") or step.get("step") or "step"
    rest = ", ".join(
        f"{k}={v}" for k, v in sorted(step.items()) if k not in ("name", "kind", "step")
    )
    return f"{name}: {rest}" if rest else str(name)
