"""What the return report's PDF shows: totals and reconciliation first, then asset by asset.

Every label and every word the report is made of (statuses, outcomes, destinations, custody
steps, conditions) comes from the certificates' catalogue (`i18n`), so the page is Swedish and
English like the certificates. The customer's own columns are shown under their own headers,
in their language, and names, tags, serials and ids are printed as they are. Every value comes
from the signed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asset_pipeline.evidence import wording as w
from asset_pipeline.evidence.i18n import N_, Text, join, plain, t
from asset_pipeline.evidence.layout import Layout, Section, device_method, row, when

ASSET_STATUSES = {
    "missing": N_("Missing"),
    "received": N_("Received"),
    "in_pipeline": N_("In the pipeline"),
    "processed": N_("Processed"),
    "released": N_("Released"),
}
# A drive's outcome inside a sentence (the batch report's column says the same in capitals).
DRIVE_OUTCOMES = {
    "certified": N_("sanitized"),
    "destroyed": N_("destroyed"),
    "failed": N_("failed, awaiting destruction"),
    "in_pipeline": N_("in progress"),
}
ASSET_DESTINATIONS = {
    "refurbish": N_("Refurbishment"),
    "recycle": N_("Recycling"),
    "destroy": N_("Destruction"),
}
CONDITIONS = {
    "ok": N_("intact"),
    "damaged": N_("damaged"),
    "incomplete": N_("incomplete"),
    "locked": N_("locked"),
}
CUSTODY_STEPS = {
    "received": N_("Received"),
    "condition": N_("Condition noted"),
    "drive_removed": N_("Drive taken out"),
    "drive_in_place": N_("Drive processed in place"),
    "drive_processed": N_("Drive processed"),
    "released": N_("Released"),
}
RECEIVED_VIA = {
    "scan": N_("scanned at the goods reception"),
    "bay": N_("tag scanned at a drive bay"),
    "dmi": N_("identified by its own SMBIOS"),
}
SMBIOS_FIELDS = {
    "manufacturer": N_("manufacturer"),
    "model": N_("model"),
    "version": N_("product version"),
    "serial": N_("serial number"),
    "asset_tag": N_("asset tag"),
    "chassis_serial": N_("chassis serial number"),
    "chassis_type": N_("chassis type"),
}
# What a dropped column's header names (`intake.headers.PERSONAL_HEADERS`).
HEADER_NAMES = {
    "a person": N_("a person"),
    "e-mail": N_("e-mail addresses"),
    "a personal identity number": N_("a personal identity number"),
    "a phone number": N_("a phone number"),
    "an address": N_("an address"),
}
# Column widths in mm (180 in all): the tag and the serial on one line where they can be.
ASSET_COLUMNS = (28, 32, 38, 32, 26, 24)
MAX_NAMES = 20


def return_report_layout(doc: Mapping[str, Any], issuer: Section, customer: Section) -> Layout:
    """The return report's page content (issuer and customer sections as on every document)."""
    details = [_asset(asset) for asset in doc["assets"]]
    if doc["drives_without_asset"]:
        rows = [row(t("Drive"), _drive(d)) for d in doc["drives_without_asset"]]
        details.append(Section(t("Drives without an asset"), rows))
    return Layout(
        title=t("Return Report"),
        sections=[issuer, customer, _totals(doc), _asset_list(doc)],
        table_title=t("Assets"),
        table_header=(t("Asset tag"), t("Serial number"), t("Type, model"), t("Drives"),
                      t("Status"), t("Destination")),
        table_rows=[_table_row(asset) for asset in doc["assets"]],
        table_widths=ASSET_COLUMNS,
        after_table=details,
    )  # fmt: skip


def _totals(doc: Mapping[str, Any]) -> Section:
    n, b, r = doc["totals"], doc["batch"], doc["reconciliation"]
    rows = [
        row(t("Opened, closed"), t("{opened} – {closed}", opened=when(b["opened_at"]),
                                   closed=when(b["closed_at"]) if b["closed_at"] else t("open"))),
        row(t("Assets on the list"), plain(n["expected"])),
        row(t("Assets received"), plain(n["received"])),
        row(t("Missing"), _count_and_names(n["missing"], r["missing"])),
        row(t("Unexpected (not on the list)"), _count_and_names(n["unexpected"], r["unexpected"])),
        row(t("Drives"), plain(n["drives"])),
        row(t("Sanitized"), plain(n["certified"])),
        row(t("Destroyed"), plain(n["destroyed"])),
        row(t("Failed, awaiting destruction"), plain(n["failed"])),
        row(t("In progress"), _count_and_names(n["in_pipeline"],
                                               [f"#{d}" for d in r["in_pipeline"]])),
        row(t("Assets released"), plain(n["released"])),
    ]  # fmt: skip
    if b["close_reason"]:
        rows.append(row(t("Closed with exceptions"), plain(b["close_reason"])))
    seal = doc["closing_event"]
    rows.append(row(t("Closing log event"), plain(f"#{seal['seq']} {seal['hash']}")))
    return Section(t("Totals and reconciliation"), rows)


def _asset_list(doc: Mapping[str, Any]) -> Section:
    m = doc["asset_list"]
    if m is None:
        return Section(t("Customer's asset list"),
                       [row(t("File"), t("No list was imported."))])  # fmt: skip
    rows = [
        row(t("File"), t("{name} ({format}, {rows} rows)", name=m["file_name"],
                         format=m["file_format"], rows=m["rows"])),
        row(t("SHA-256 of the file"), plain(m["sha256"])),
        row(t("Imported"), plain(when(m["imported_at"]))),
    ]  # fmt: skip
    rows += [row(t("Column not stored"), _dropped(d)) for d in m["dropped_columns"]]
    return Section(t("Customer's asset list"), rows)


def _dropped(entry: Mapping[str, Any]) -> Text:
    """Why a column was not stored: what its header names, or what its values looked like."""
    column = entry["column"]
    if entry.get("header_names"):
        what = w.coded(HEADER_NAMES, entry["header_names"])
        return t("{column}: the header names {what}.", column=column, what=what)
    if entry.get("looks_like"):
        found = [t("{count} of {values} values look like {category}", count=n,
                   values=entry["filled_cells"], category=category)
                 for category, n in entry["looks_like"].items()]  # fmt: skip
        return t("{column}: the values show personal data: {found}.", column=column,
                 found=join(found, "; "))  # fmt: skip
    return plain(f"{column}: {entry['reason']}")  # a list imported before the codes


def _asset(a: Mapping[str, Any]) -> Section:
    rows = [
        row(t("Serial number"), plain(a["serial"])),
        row(t("Type, make, model"), plain(_joined(a["type"], a["make"], a["model"]))),
    ]
    if a["customer_ref"]:
        rows.append(row(t("Customer reference"), plain(a["customer_ref"])))
    # The customer's own columns, under the customer's own headers, as written.
    rows += [row(plain(header), plain(value)) for header, value in a["customer_fields"]]
    identity = a["machine_identity"]
    if identity:
        fields = [
            join([w.coded(SMBIOS_FIELDS, k), plain(v)], " ") for k, v in sorted(identity.items())
        ]
        rows.append(row(t("Machine identity (SMBIOS)"), join(fields)))
    rows.append(row(t("On the list"), t("yes") if a["on_list"] else t("no")))
    rows.append(row(t("Status"), w.coded(ASSET_STATUSES, a["status"])))
    if a["received_at"]:
        condition = w.coded(CONDITIONS, a["condition"])
        received = t("{at}, condition: {condition}", at=when(a["received_at"]), condition=condition)
        rows.append(row(t("Received"), received))
    rows += [row(t("Drive"), _drive(d)) for d in a["drives"]]
    if a["destination"]:
        destination = w.coded(ASSET_DESTINATIONS, a["destination"])
        rows.append(row(t("Destination"), join([destination, plain(when(a["released_at"]))])))
    rows += [row(t("Custody"), _custody(step)) for step in a["custody"]]
    return Section(t("Asset {name}", name=a["asset_tag"] or a["serial"]), rows)  # fmt: skip


def _drive(d: Mapping[str, Any]) -> Text:
    parts = [t("#{device} {model}, serial number {serial}: {outcome}", device=str(d["device_id"]),
               model=d["model"] or "-", serial=d["serial"] or "-",
               outcome=w.coded(DRIVE_OUTCOMES, d["outcome"]))]  # fmt: skip
    if d["method"]:
        parts.append(device_method(d))
    if d["certificate_id"]:
        parts.append(plain(d["certificate_id"]))
    return join(parts)


def _custody(step: Mapping[str, Any]) -> Text:
    detail = step["detail"]
    facts = [plain(f"#{step['device_id']}")] if step["device_id"] else []
    for key, table in (
        ("via", RECEIVED_VIA),
        ("condition", CONDITIONS),
        ("outcome", DRIVE_OUTCOMES),
        ("destination", ASSET_DESTINATIONS),
    ):
        if detail.get(key):
            facts.append(w.coded(table, detail[key]))
    if detail.get("drive_serial"):
        facts.append(t("serial number {serial}", serial=detail["drive_serial"]))
    if detail.get("certificate_id"):
        facts.append(plain(detail["certificate_id"]))
    values = {"at": when(step["at"]), "step": w.coded(CUSTODY_STEPS, step["step"]),
              "operator": step["operator"] or "-", "seq": str(step["log_seq"])}  # fmt: skip
    if facts:
        return t("{at}: {step} ({facts}); by {operator}; log event #{seq}",
                 facts=join(facts), **values)  # fmt: skip
    return t("{at}: {step}; by {operator}; log event #{seq}", **values)


def _table_row(a: Mapping[str, Any]) -> tuple[Text, ...]:
    drives = [join([plain(f"#{d['device_id']}"), w.coded(DRIVE_OUTCOMES, d["outcome"])], " ")
              for d in a["drives"]]  # fmt: skip
    return (
        plain(a["asset_tag"]),
        plain(a["serial"]),
        plain(_joined(a["type"], a["model"])),
        join(drives, "; ") if drives else plain("-"),
        w.coded(ASSET_STATUSES, a["status"]),
        w.coded(ASSET_DESTINATIONS, a["destination"]) if a["destination"] else plain("-"),
    )


def _count_and_names(count: int, names: list[str]) -> Text:
    shown = ", ".join(names[:MAX_NAMES]) + (" …" if len(names) > MAX_NAMES else "")
    return plain(f"{count}: {shown}" if names else count)


def _joined(*parts: str) -> str:
    return ", ".join(p for p in parts if p) or "-"
