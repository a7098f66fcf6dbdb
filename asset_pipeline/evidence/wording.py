"""The codes and numbers of a signed document as sentences, in Swedish and English.

`layout` decides which rows a page has; this module says each value: a wipe step becomes
"Pass 1 of 1: random data written over 1.00 GB at 610.9 MB/s in 0.03 minutes; no write
errors, no retries.", a `not_reached` code becomes what the method could not reach, and so
on. Sizes are decimal GB, rates MB/s, durations minutes, as the customer's reader expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asset_pipeline.evidence.i18n import N_, Num, Text, join, plain, t

GB = 1e9

LEVELS = {"clear": N_("Clear"), "purge": N_("Purge"), "destroy": N_("Destroy")}
METHODS = {"Clear": N_("Clear"), "Purge": N_("Purge"), "Destroy": N_("Destroy"),
           "Destruct": N_("Destruct")}  # fmt: skip
MEDIA_TYPES = {
    "hdd": N_("hard disk drive (HDD)"),
    "ssd": N_("solid-state drive (SSD)"),
    "nvme": N_("NVMe solid-state drive"),
    "usb": N_("USB flash drive"),
    "emmc": N_("eMMC flash"),
    "virtual": N_("virtual disk"),
    "image": N_("disk image file"),
    "unknown": N_("unknown media"),
}
PATTERNS = {
    "random": N_("random data (AES-256-CTR keystream)"),
    "zeros": N_("zeros"),
    "ones": N_("ones (0xFF)"),
}
REASONS = {
    "overwrite-clear": N_("A single verified overwrite pass of random data is Clear for this "
                          "media; every byte written can be checked afterwards."),
    "firmware-flash": N_("The drive's own sanitize command reaches spare and remapped flash "
                         "blocks that an overwrite cannot."),
    "firmware-purge": N_("The drive's own sanitize command is Purge for this media."),
    "requested": N_("The operator chose this method, and it meets the required level."),
}  # fmt: skip
NOT_REACHED = {
    "flash-spare-area": N_("Spare and over-provisioned flash blocks: an overwrite through the "
                           "host cannot address them (why an overwrite is only Clear on flash)."),
    "reallocated-sectors": N_("Sectors the drive has reallocated (remapped) are out of the "
                              "host's reach and keep what they held."),
    "firmware-reported": N_("Areas only the drive's firmware can reach are sanitized on the "
                            "drive's own report of completion, checked by markers and a sample."),
    "backing-store-copies": N_("Copies the storage under an image or virtual disk may keep "
                               "(snapshots, journals, thin provisioning) are not reached."),
    "hidden-areas-not-checked": N_("Hidden areas (HPA/DCO) were not checked on this interface."),
    "hidden-areas-left": N_("Hidden areas (HPA/DCO) of {sectors} sectors were left in place."),
    "not-read-back": N_("{percent} % of the device was not read back (sample verification)."),
    "health-unknown": N_("The drive reported no health data (SMART), so none was checked."),
}  # fmt: skip
HEALTH = {
    "passed": N_("passed ({source})"),
    "failed": N_("failed ({source})"),
    "unknown": N_("unknown: the drive reported nothing ({source})"),
    "not-checked": N_("not checked"),
}
DESTINATIONS = {
    "reuse": N_("Reuse"),
    "recycle": N_("Recycling"),
    "destroy": N_("Destruction"),
    "return_to_customer": N_("Return to the customer"),
}
CATEGORIZATIONS = {
    "unclassified": N_("No customer data remains: not sensitive"),
    "destroyed": N_("Destroyed: no data can be read"),
}
DESTRUCTION_TECHNIQUES = {
    "shred": N_("Shredding"),
    "disintegrate": N_("Disintegration"),
    "pulverize": N_("Pulverizing"),
    "incinerate": N_("Incineration"),
    "melt": N_("Melting"),
    "crush": N_("Crushing"),
}
DESTRUCTION_REASONS = {
    "plan-destroy": N_("The sanitization plan ends in destruction (no method reaches the "
                       "required level on this media, or the drive is failing)."),
    "wipe-failed": N_("The sanitization failed; the device is destroyed instead."),
    "aborted": N_("The sanitization was interrupted; the device is destroyed instead."),
}  # fmt: skip
OUTCOMES = {
    "sanitized": N_("Sanitized"),
    "destroyed": N_("Destroyed"),
    "failed-pending": N_("Failed, awaiting destruction"),
    "in-progress": N_("In progress"),
}
VALIDATION_RULES = {
    "operator": N_("The operator who performed it"),
    "second-person": N_("A second, different person"),
}
SCAN_PASSES = {"raw": N_("raw"), "files": N_("files")}


def coded(table: Mapping[str, str], code: Any) -> Text:
    """A code's text from `table`, or the code itself when the table does not know it."""
    msgid = table.get(str(code))
    return t(msgid) if msgid else plain(code)


def gigabytes(n: int) -> Num:
    """Bytes as decimal gigabytes, two decimals."""
    return Num(n / GB, 2)


def minutes(seconds: float) -> Num:
    """Seconds as minutes, two decimals (short runs still show)."""
    return Num(seconds / 60, 2)


def step(record: Mapping[str, Any], passes: int) -> Text:
    """One wipe step as a sentence with units."""
    if record.get("kind") == "overwrite":
        seconds = float(record["seconds"])
        head = t(
            "Pass {n} of {total}: {pattern} written over {gb} GB at {rate} MB/s in {minutes} "
            "minutes;",
            n=record["index"], total=passes, pattern=coded(PATTERNS, record["pattern"]),
            gb=gigabytes(record["bytes_written"]), rate=Num(record["mb_per_s"], 1),
            minutes=minutes(seconds),
        )  # fmt: skip
        return join([head, _errors_and_retries(record)], " ")
    if record.get("kind") == "firmware":
        return t(
            "Step {n}: the drive ran {command} and reported {outcome} after {minutes} minutes.",
            n=record["index"], command=record["command"],
            outcome=t("success") if record["outcome"] == "passed" else plain(record["outcome"]),
            minutes=minutes(float(record["seconds"])),
        )  # fmt: skip
    return t("Step {n}: recorded in the signed JSON.", n=record.get("index", 0))


def _errors_and_retries(record: Mapping[str, Any]) -> Text:
    errors, retried = record["write_errors"], record["retried_ranges"]
    if not errors and not retried:
        return t("no write errors, no retries.")
    return t("{errors} write errors, {retried} ranges written only on a retry.",
             errors=errors, retried=retried)  # fmt: skip


def verification(v: Mapping[str, Any], size_bytes: int) -> Text:
    """How the result was read back, and what that found."""
    coverage = v.get("coverage")
    percent = Num(float(coverage) * 100, 2) if isinstance(coverage, int | float) else plain("?")
    rate = Num(v["bytes_read"] / v["seconds"] / 1e6, 1) if v.get("seconds") else Num(0, 1)
    values = {"gb": gigabytes(v["bytes_read"]), "percent": percent, "rate": rate,
              "size": gigabytes(size_bytes)}  # fmt: skip
    method = v.get("method")
    if method == "markers":
        return t("Marker sectors written before the erase and a sample were read back: "
                 "{gb} GB ({percent} % of {size} GB); none still held the old content.",
                 **values)  # fmt: skip
    if method == "full":
        return t("The whole device was read back, {gb} GB at {rate} MB/s, and compared "
                 "with the written pattern: no differences.", **values)  # fmt: skip
    return t("A seeded random sample was read back, {gb} GB ({percent} % of {size} GB) at "
             "{rate} MB/s, and compared with the written pattern: no differences.",
             **values)  # fmt: skip


def scan(summary: Mapping[str, Any] | None) -> Text:
    """A scan summary as a sentence (counts only)."""
    if summary is None:
        return t("Not instructed by the agreement.")
    passes = join([coded(SCAN_PASSES, p) for p in summary["passes"]] or [plain("-")])
    values = {"gb": gigabytes(summary["bytes_scanned"]), "size": gigabytes(summary["size_bytes"]),
              "passes": passes, "total": summary["total_findings"]}  # fmt: skip
    if not summary["total_findings"]:
        return t("No personal data found; {gb} of {size} GB scanned ({passes}).", **values)
    found = ", ".join(
        f"{category} {c['count']}" for category, c in summary["findings"].items() if c["count"]
    )
    return t("{total} personal-data findings ({found}); {gb} of {size} GB scanned ({passes}).",
             found=found, **values)  # fmt: skip


def health(entry: Mapping[str, Any]) -> Text:
    """A health reading and its source."""
    msgid = HEALTH.get(str(entry.get("status")), HEALTH["not-checked"])
    return t(msgid, source=entry.get("source") or t("no SMART tool for this interface"))


def not_reached(entry: Mapping[str, Any]) -> Text:
    """One thing the method could not reach or the run did not check."""
    msgid = NOT_REACHED.get(str(entry.get("code")))
    if msgid is None:
        return plain(entry.get("code"))
    percent = Num(float(entry.get("fraction", 0)) * 100, 2)
    return t(msgid, sectors=int(entry.get("sectors", 0)), percent=percent)


def retries(record: Mapping[str, Any]) -> Text:
    """The retried ranges of a run: count, bytes and the first one."""
    if not record["count"]:
        return t("None: every read and write succeeded on the first attempt.")
    first = record["ranges"][0]
    return t("{count} ranges ({bytes} bytes) succeeded only on a retry; the first at byte "
             "{offset} ({step}).", count=record["count"], bytes=record["bytes"],
             offset=first["offset"], step=first["step"])  # fmt: skip


def errors(record: Mapping[str, Any]) -> Text:
    """The errors of a run (a certified run has none)."""
    if not record["count"]:
        return t("None")
    return t("{count} errors, listed in the signed JSON.", count=record["count"])


def categorization(pre: Mapping[str, Any]) -> Text:
    """The pre-sanitization confidentiality categorization."""
    if pre["basis"] == "agreement":
        return t("Not scanned; the agreement (DPA) covers personal data, so the media is "
                 "treated as holding it.")  # fmt: skip
    if pre["personal_data_present"]:
        return t("Personal data found by the pre-scan: {categories}.",
                 categories=", ".join(pre["categories"]))  # fmt: skip
    return t("No personal data found by the pre-scan.")
