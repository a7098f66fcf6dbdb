"""Each wipe method as IEEE 2883-2022 names it: interface, method and technique.

NIST SP 800-88 Rev. 2 leaves the sanitization techniques to IEEE 2883, so the certificate
names the method (Clear / Purge / Destruct) and the technique the way IEEE 2883 does.

IEEE 2883 groups techniques by method and by the interface the command is sent over (ATA,
SCSI, NVMe); the sanitize commands of each interface offer the same three techniques: block
erase, crypto erase and overwrite. An overwrite from the host through ordinary write commands
is a Clear technique on any interface. Whether a firmware technique reaches Purge depends on
the media (the wipe library decides that: `Plan.category`); this table only names things.

The technique keys are English message ids of the certificate catalogue (`evidence/i18n.py`),
so each one is also printed in Swedish.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asset_pipeline.evidence.i18n import N_

# Transport (as drive discovery names it) -> the interface family a host overwrite goes over.
INTERFACES = {
    "sata": "ATA",
    "ata": "ATA",
    "sas": "SCSI",
    "scsi": "SCSI",
    "usb": "SCSI",  # USB mass storage and UAS carry SCSI commands
    "nvme": "NVMe",
    "mmc": "eMMC",
    "virtio": "virtual",
    "loop": "virtual",
    "dm": "virtual",
    "md": "virtual",
    "image": "file",
}
FAMILIES = {"ata": "ATA", "scsi": "SCSI", "nvme": "NVMe"}
# NIST SP 800-88 says Destroy; IEEE 2883 (after ISO/IEC 27040) says Destruct.
IEEE_METHODS = {"clear": "Clear", "purge": "Purge", "destroy": "Destruct"}
NIST_METHODS = {"clear": "Clear", "purge": "Purge", "destroy": "Destroy"}


@dataclass(frozen=True, slots=True)
class Technique:
    """How one wipe method is named on a certificate."""

    technique: str  # IEEE 2883 technique, a catalogue message id ("Sanitize block erase")
    command: str  # the interface command, untranslated ("SANITIZE BLOCK ERASE EXT")
    family: str  # ata | scsi | nvme | host (ordinary writes) | none (destroy)


_HOST_OVERWRITE = Technique(N_("Overwrite"), "WRITE commands, all user-addressable sectors", "host")
# The wipe library's method names (wipe.plan.OVERWRITES, wipe.firmware methods, "destroy").
# A contract test checks that every method the wipe library offers is named here.
TECHNIQUES: dict[str, Technique] = {
    "overwrite-random": _HOST_OVERWRITE,
    "overwrite-random-zero": _HOST_OVERWRITE,
    "overwrite-zeros": _HOST_OVERWRITE,
    "overwrite-ones": _HOST_OVERWRITE,
    "ata-sanitize-block": Technique(N_("Sanitize block erase"), "SANITIZE BLOCK ERASE EXT", "ata"),
    "ata-sanitize-crypto": Technique(N_("Sanitize crypto erase"), "SANITIZE CRYPTO SCRAMBLE EXT",
                                     "ata"),
    "ata-sanitize-overwrite": Technique(N_("Sanitize overwrite"), "SANITIZE OVERWRITE EXT", "ata"),
    "ata-secure-erase-enhanced": Technique(N_("Security erase (enhanced)"),
                                           "SECURITY ERASE UNIT, enhanced", "ata"),
    "ata-secure-erase": Technique(N_("Security erase (normal)"), "SECURITY ERASE UNIT, normal",
                                  "ata"),
    "nvme-sanitize-block": Technique(N_("Sanitize block erase"), "Sanitize, SANACT 2 (block erase)",
                                     "nvme"),
    "nvme-sanitize-crypto": Technique(N_("Sanitize crypto erase"),
                                      "Sanitize, SANACT 4 (crypto erase)", "nvme"),
    "nvme-sanitize-overwrite": Technique(N_("Sanitize overwrite"), "Sanitize, SANACT 3 (overwrite)",
                                         "nvme"),
    "nvme-format-ses1": Technique(N_("Format, user data erase"), "Format NVM, SES 1", "nvme"),
    "nvme-format-ses2": Technique(N_("Format, cryptographic erase"), "Format NVM, SES 2", "nvme"),
    "scsi-sanitize-block": Technique(N_("Sanitize block erase"), "SANITIZE, BLOCK ERASE", "scsi"),
    "scsi-sanitize-crypto": Technique(N_("Sanitize crypto erase"), "SANITIZE, CRYPTOGRAPHIC ERASE",
                                      "scsi"),
    "scsi-sanitize-overwrite": Technique(N_("Sanitize overwrite"), "SANITIZE, OVERWRITE", "scsi"),
    "scsi-format-unit": Technique(N_("Format unit"), "FORMAT UNIT", "scsi"),
    "destroy": Technique(N_("Destruct"), "none (physical destruction)", "none"),
}  # fmt: skip


def describe(plan: Mapping[str, Any], transport: str) -> dict[str, str]:
    """The certificate's `ieee_2883` block for a plan run over `transport`.

    Returns:
        `{"method": "Clear|Purge|Destruct", "interface": "ATA|SCSI|NVMe|...", "technique":
        <catalogue id>, "command": <interface command>, "tool_method": <wipe method name>}`.

    Raises:
        KeyError: the plan's method is not in `TECHNIQUES` (a new wipe method needs a name).
    """
    name = str(plan.get("method", ""))
    entry = TECHNIQUES[name]
    category = str(plan.get("category") or plan.get("level") or "").lower()
    interface = FAMILIES.get(entry.family) or INTERFACES.get(transport, "unknown")
    return {
        "method": IEEE_METHODS.get(category, category.capitalize()),
        "interface": interface,
        "technique": entry.technique,
        "command": entry.command,
        "tool_method": name,
    }


def nist_method(category: str) -> str:
    """NIST SP 800-88 Rev. 2's name for a category (clear | purge | destroy)."""
    return NIST_METHODS.get(category.lower(), category.capitalize())
