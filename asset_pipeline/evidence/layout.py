"""What the PDF shows for each kind of signed document: titled sections of label/value rows.

Every label and every value is in Swedish and English (`i18n.Text`), because the customers are
Swedish controllers and their auditors may read either; every value comes from the signed JSON,
so the page can never say more than the signature covers. `Layout.lines()` is every line of
text the page prints, in order: the renderer draws exactly these, and a page-text check can
compare against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from asset_pipeline.evidence import wording as w
from asset_pipeline.evidence.i18n import N_, Text, join, plain, t
from asset_pipeline.evidence.signing import (
    BATCH_REPORT,
    DESTRUCTION,
    RETURN_REPORT,
    SANITIZATION,
    SignedDocument,
)

MAX_STEPS = 6


@dataclass(frozen=True, slots=True)
class Row:
    """One label and its value."""

    label: Text
    value: Text


@dataclass(frozen=True, slots=True)
class Section:
    """A titled block of rows."""

    title: Text
    rows: list[Row]


@dataclass(frozen=True)
class Layout:
    """A page's content: title, sections, an optional table, and the closing notes.

    The table is the batch report's devices or the return report's assets; `table_widths`
    (mm, filling the frame) sets its columns when they are not the device table's.
    `after_table` holds sections printed below it (the return report's asset by asset).
    """

    title: Text
    sections: list[Section]
    table_title: Text | None = None
    table_header: tuple[Text, ...] = ()
    table_rows: list[tuple[Text, ...]] = field(default_factory=list)
    closing: list[Text] = field(default_factory=list)
    footer: str = ""
    reference: str = ""  # the line under the title: document id and time of issue
    table_widths: tuple[float, ...] = ()
    after_table: list[Section] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Every line of text the page prints, in reading order.

        The title, labels and values print Swedish above English (one line when the two are
        the same); section titles print as one line "svenska / English".
        """
        out = self.title.lines() + ([self.reference] if self.reference else [])
        for section in self.sections:
            out.append(str(section.title))
            for row in section.rows:
                out += row.label.lines() + row.value.lines()
        if self.table_title is not None:
            out.append(str(self.table_title))
            out += [line for h in self.table_header for line in h.lines()]
            out += [line for row in self.table_rows for cell in row for line in cell.lines()]
        for section in self.after_table:
            out.append(str(section.title))
            for row in section.rows:
                out += row.label.lines() + row.value.lines()
        out += [line for text in self.closing for line in text.lines()]
        return out + ([self.footer] if self.footer else [])


def layout_for(doc: Mapping[str, Any]) -> Layout:
    """The layout of a signed document (schema 2; a return report: 1), chosen by its schema."""
    schema = doc.get("schema")
    if schema == SANITIZATION:
        return _sanitization(doc)
    if schema == DESTRUCTION:
        return _destruction(doc)
    if schema == BATCH_REPORT:
        return _batch_report(doc)
    if schema == RETURN_REPORT:
        from asset_pipeline.evidence.return_layout import return_report_layout

        return return_report_layout(doc, _issuer(doc), _customer(doc))
    raise ValueError(f"no PDF layout for schema {schema!r}")


def layout_of(signed: SignedDocument) -> Layout:
    """The whole page of a signed document: its layout plus the closing verification notes."""
    layout = layout_for(signed.document)
    key_label = t("Station key (SHA-256)")
    footer = f"{key_label}: {signed.key_fingerprint}"
    return replace(layout, closing=verify_note(signed.document, signed.sha256), footer=footer,
                   reference=f"{signed.doc_id} · {when(signed.document['issued_at'])}")  # fmt: skip


def row(label: Text, value: Text) -> Row:
    """A row (a short name for the many rows below)."""
    return Row(label, value)


def verify_note(doc: Mapping[str, Any], sha256: str) -> list[Text]:
    """The closing lines: the hash, where the JSON is, and the command that verifies it."""
    key_file = doc["issuer"].get("public_key_file", "station_key.pub.pem")
    return [
        t("SHA-256 of the signed JSON:"),
        plain(sha256),
        t("The signed JSON is attached to this PDF as {name}.json. Verify both with the "
          "station's public key ({key_file}):", name=doc["id"], key_file=key_file),
        plain(f"asset-pipeline cert verify {doc['id']}.pdf --public-key {key_file}"),
    ]  # fmt: skip


def _issuer(doc: Mapping[str, Any]) -> Section:
    i = doc["issuer"]
    where = ", ".join(x for x in (i.get("site"), i.get("station_name")) if x)
    return Section(t("Issuer"), [
        row(t("Organisation"), plain(_with_number(i["organization"], i.get("org_number", "")))),
        row(t("Site, station"), plain(f"{where} ({i['station_id']})" if where
                                      else i["station_id"])),
        row(t("Tool, version"), plain(f"{i['tool']} {i['tool_version']}")),
    ])  # fmt: skip


def _customer(doc: Mapping[str, Any]) -> Section:
    c = doc["customer"]
    return Section(t("Customer"), [
        row(t("Customer"), plain(_with_number(c["customer_name"], c["customer_org_number"]))),
        row(t("Controller"), plain(_with_number(c["controller_name"],
                                                c["controller_org_number"]))),
        row(t("Agreement (DPA)"), plain(c["agreement_reference"])),
        row(t("Required level"), w.coded(w.LEVELS, c["required_level"])),
        row(t("Validation by"), w.coded(w.VALIDATION_RULES, c.get("validation", "operator"))),
        row(t("Batch, order"), plain(f"{c['batch_id']}, {c['order_number'] or '-'}")),
    ])  # fmt: skip


def _media(doc: Mapping[str, Any]) -> Section:
    m, source = doc["media"], doc.get("media_source") or {}
    asset = source.get("asset")
    return Section(t("Media"), [
        row(t("Manufacturer, model"), plain(_make_model(m["manufacturer"], m["model"]))),
        row(t("Serial number"), plain(m["serial"])),
        row(t("WWN, firmware"), plain(f"{m['wwn'] or '-'}, {m['firmware'] or '-'}")),
        row(t("Property number"), plain(m.get("property_number"))),
        row(t("Media type, interface"), join([w.coded(w.MEDIA_TYPES, m["media_type"]),
                                              plain(m["interface"])])),
        row(t("Capacity"), t("{gb} GB ({bytes} bytes)", gb=w.gigabytes(m["capacity_bytes"]),
                             bytes=m["capacity_bytes"])),
        row(t("Media source"), t("{customer}; asset: {asset}", customer=source.get("customer"),
                                 asset=plain(_asset_name(asset)) if asset
                                 else t("none linked yet"))),
    ])  # fmt: skip


def _asset_name(asset: Mapping[str, Any]) -> str:
    """The customer's asset as its list names it: tag (or serial), then make and model."""
    name = asset.get("asset_tag") or asset.get("serial") or f"#{asset.get('asset_id')}"
    machine = _make_model(asset.get("make") or "", asset.get("model") or "")
    return f"{name} ({machine})" if machine != "-" else name


def _people(doc: Mapping[str, Any], roles: tuple[tuple[str, str], ...]) -> Section:
    rows = []
    for key, label in roles:
        p = doc["people"].get(key)
        if p is None:
            continue
        if key == "witness":
            rows.append(row(t(label), plain(f"{p['name']}, {p['date']}")))
            continue
        rows.append(row(t(label), plain(f"{p['name']}, {p['title']}; {p['contact']}")))
        rows.append(row(t("Date, location"), plain(f"{p['date']}, {p['location']}")))
    rows.append(
        row(
            t("Signature"),
            t(
                "Signed digitally by the station on behalf of the people named above (Ed25519, "
                "key {fingerprint}).",
                fingerprint=doc["issuer"]["key_fingerprint"][:19] + "…",
            ),
        )
    )
    return Section(t("People"), rows)


def _log(doc: Mapping[str, Any]) -> Section:
    p, e = doc["processing"], doc["closing_event"]
    rows = [
        row(t("Processed"), plain(f"{when(p['started_at'])} – {when(p['ended_at'])}")),
        row(t("Closing log event"), plain(f"#{e['seq']} {e['hash']}")),
    ]
    rows += [row(t("Note (as written)"), plain(x)) for x in doc.get("notes", [])]
    return Section(t("Processing log"), rows)


def _sanitization(doc: Mapping[str, Any]) -> Layout:
    s, v, a = doc["sanitization"], doc["verification"], doc["assurance"]
    ieee, steps = s["ieee_2883"], s["steps"]
    overwrites = sum(1 for x in steps if x.get("kind") == "overwrite")
    step_rows = [row(t("Step"), w.step(x, overwrites)) for x in steps[:MAX_STEPS]]
    if len(steps) > MAX_STEPS:
        step_rows.append(row(t("Step"), t("{n} more steps in the signed JSON.",
                                          n=len(steps) - MAX_STEPS)))  # fmt: skip
    validation, post = doc["validation"], doc["post_sanitization"]
    return Layout(
        title=t("Certificate of Sanitization"),
        sections=[
            _issuer(doc), _customer(doc), _media(doc),
            Section(t("Before sanitization"), [
                row(t("Confidentiality"), w.categorization(doc["pre_sanitization"])),
                row(t("Pre-scan"), w.scan(doc["scans"]["pre"])),
            ]),
            Section(t("Sanitization"), [
                row(t("Method (NIST SP 800-88 Rev. 2)"), w.coded(w.METHODS, s["method"])),
                row(t("Technique (IEEE 2883-2022)"), t(
                    "{method}, {interface}: {technique} ({command})",
                    method=w.coded(w.METHODS, ieee["method"]), interface=ieee["interface"],
                    technique=t(ieee["technique"]), command=ieee["command"])),
                row(t("Reason"), w.coded(w.REASONS, s["reason_code"])),
                *step_rows,
                row(t("Tool"), plain(f"{s['tool']} {s['tool_version']} ({ieee['tool_method']})")),
            ]),
            Section(t("Verification"), [
                row(t("Read-back"), w.verification(v, doc["media"]["capacity_bytes"])),
                row(t("Completion status"), w.coded(
                    {"completed": N_("Completed: every step finished and reported success.")},
                    a["completion_status"])),
                row(t("Errors"), w.errors(a["errors"])),
                row(t("Retries"), w.retries(a["retries"])),
                row(t("Health before, after"), join([w.health(a["health"]["before"]),
                                                     w.health(a["health"]["after"])], "; ")),
                *[row(t("Not reached"), w.not_reached(x)) for x in a["not_reached"]],
            ]),
            Section(t("Validation"), [
                row(t("Decision"), t("Accepted by {name} on {at}", name=validation["by"],
                                     at=when(validation["at"]))),
            ]),
            Section(t("After sanitization"), [
                row(t("Categorization"), w.coded(w.CATEGORIZATIONS, post["categorization"])),
                row(t("Destination"), w.coded(w.DESTINATIONS, post["destination"])),
                row(t("Post-scan"), w.scan(doc["scans"]["post"])),
            ]),
            _people(doc, (("performed_by", N_("Performed by")),
                          ("validated_by", N_("Validated by")))),
            _log(doc),
        ],
    )  # fmt: skip


def _destruction(doc: Mapping[str, Any]) -> Layout:
    d, post = doc["destruction"], doc["post_sanitization"]
    return Layout(
        title=t("Certificate of Destruction"),
        sections=[
            _issuer(doc), _customer(doc), _media(doc),
            Section(t("Destruction"), [
                row(t("Method (NIST SP 800-88 Rev. 2)"), w.coded(w.METHODS, d["method"])),
                row(t("Technique (IEEE 2883-2022)"), join([
                    w.coded(w.METHODS, d["ieee_2883"]["method"]),
                    w.coded(w.DESTRUCTION_TECHNIQUES, d["ieee_2883"]["technique"])], ": ")),
                row(t("Date"), plain(d["destroyed_on"])),
                row(t("Facility"), plain(d["facility"])),
                row(t("Reason"), w.coded(w.DESTRUCTION_REASONS, d["reason_code"])),
                row(t("Categorization"), w.coded(w.CATEGORIZATIONS, post["categorization"])),
            ]),
            _people(doc, (("performed_by", N_("Recorded by")), ("witness", N_("Witness")))),
            _log(doc),
        ],
    )  # fmt: skip


def _batch_report(doc: Mapping[str, Any]) -> Layout:
    tot, b = doc["totals"], doc["batch"]
    totals = [
        row(t("Opened, closed"), t("{opened} – {closed}", opened=when(b["opened_at"]),
                                   closed=when(b["closed_at"]) if b["closed_at"] else t("open"))),
        row(t("Devices"), plain(tot["devices"])),
        row(t("Sanitized"), plain(tot["sanitized"])),
        row(t("Destroyed"), plain(tot["destroyed"])),
        row(t("Failed, awaiting destruction"), plain(tot["failed_pending"])),
        row(t("In progress"), plain(tot["in_progress"])),
        row(t("Closing log event"), plain(f"#{doc['closing_event']['seq']} "
                                          f"{doc['closing_event']['hash']}")),
    ]  # fmt: skip
    rows = [
        (plain(d["device_id"]), plain(d["model"]), plain(d["serial"]),
         w.coded(w.OUTCOMES, d["outcome"]), device_method(d), plain(d["certificate_id"]))
        for d in doc["devices"]
    ]  # fmt: skip
    return Layout(
        title=t("Batch Report"),
        sections=[_issuer(doc), _customer(doc), Section(t("Totals"), totals)],
        table_title=t("Devices"),
        table_header=(plain("ID"), t("Model"), t("Serial number"), t("Outcome"), t("Method"),
                      t("Certificate")),
        table_rows=rows,
    )  # fmt: skip


def device_method(d: Mapping[str, Any]) -> Text:
    """A drive's method from a report row (`{"method", "technique"}`), or "-" for none."""
    method = d.get("method")
    if not method:
        return plain("-")
    technique = method.get("technique", "")
    return join([w.coded(w.METHODS, method.get("method")),
                 t(technique) if technique in _TECHNIQUE_IDS else
                 w.coded(w.DESTRUCTION_TECHNIQUES, technique)], ": ")  # fmt: skip


def when(iso: str | None) -> str:
    """An ISO 8601 UTC time as the page prints it: `2026-11-27 08:58 UTC`."""
    if not iso:
        return "-"
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 and iso[10] == "T" else iso


def _with_number(name: str, number: str) -> str:
    return f"{name} ({number})" if number else name


def _make_model(make: str, model: str) -> str:
    if make and not model.lower().startswith(make.lower()):
        return f"{make} {model}"
    return model or make or "-"


def _technique_ids() -> frozenset[str]:
    from asset_pipeline.evidence.techniques import TECHNIQUES

    return frozenset(x.technique for x in TECHNIQUES.values())


_TECHNIQUE_IDS = _technique_ids()
