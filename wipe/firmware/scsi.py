"""SCSI SANITIZE (sg_sanitize) and FORMAT UNIT (sg_format), with sg_opcodes for capabilities.

Both tools can report success without effect: sg_sanitize exits 0 on a transport DID_ERROR,
and QEMU's scsi-hd accepts FORMAT UNIT as a no-op. The text is checked for transport errors
here, and the marker verification after the erase decides whether anything happened.
"""

from __future__ import annotations

import re

from wipe.errors import FirmwareCommandFailed
from wipe.firmware import Capabilities, FirmwareSanitizer, Method, Status, last_line

METHODS = (
    Method("scsi-sanitize-block", "scsi", "block erase", ("ssd",), "any",
           "SCSI SANITIZE, block erase"),
    Method("scsi-sanitize-crypto", "scsi", "cryptographic erase", ("ssd", "hdd"), "changed",
           "SCSI SANITIZE, cryptographic erase"),
    Method("scsi-sanitize-overwrite", "scsi", "overwrite", ("hdd", "ssd"), "zeros",
           "SCSI SANITIZE, overwrite with zeros (one pass)"),
    # FORMAT UNIT is not a NIST Purge; it rewrites every block, so it is offered as Clear.
    Method("scsi-format-unit", "scsi", "format unit", (), "any",
           "SCSI FORMAT UNIT (full format, the drive initializes every block)"),
)  # fmt: skip

_SANITIZE_ARGS = {
    "scsi-sanitize-block": ["--block"],
    "scsi-sanitize-crypto": ["--crypto"],
    "scsi-sanitize-overwrite": ["--overwrite", "--zero"],
}
# SANITIZE (0x48) service actions as sg_opcodes lists them.
_SERVICE_ACTIONS = {"1": "scsi-sanitize-overwrite", "2": "scsi-sanitize-block",
                    "3": "scsi-sanitize-crypto"}  # fmt: skip
_TRANSPORT_ERROR = re.compile(r"DID_\w+|transport:|Host_status=0x0*[1-9a-f]", re.IGNORECASE)


def parse_opcodes(text: str) -> tuple[set[str], bool]:
    """(method names the opcode list allows, whether the drive answered with a list)."""
    found: set[str] = set()
    listed = False
    for line in text.splitlines():
        parts = line.split()
        if not parts or not re.fullmatch(r"[0-9a-fA-F]{2}", parts[0]):
            continue
        listed = True
        opcode = parts[0].lower()
        if opcode == "04":
            found.add("scsi-format-unit")
        elif opcode == "48" and len(parts) > 1 and parts[1] in _SERVICE_ACTIONS:
            found.add(_SERVICE_ACTIONS[parts[1]])
    return found, listed


def parse_progress(text: str) -> Status:
    """`sg_requests --progress`: a percentage while the drive works, nothing once it is done."""
    match = re.search(r"Progress indication:\s*([\d.]+)%", text)
    if match:
        return Status(done=False, fraction=float(match.group(1)) / 100, message="in progress")
    if re.search(r"medium format corrupted|sanitize command failed", text, re.IGNORECASE):
        return Status(done=True, failed=True, message=last_line(text))
    return Status(done=True, fraction=1.0, message="the drive reports no operation in progress")


def transport_error(text: str) -> str:
    """The line that says a SCSI command failed, whatever the exit code said; "" when none."""
    for line in text.splitlines():
        if _TRANSPORT_ERROR.search(line) or re.search(r"failed|Illegal request", line):
            return line.strip()
    return ""


class ScsiSanitizer(FirmwareSanitizer):
    """sg3_utils: SANITIZE started early and polled with REQUEST SENSE, FORMAT UNIT waited on."""

    family = "scsi"
    METHODS = METHODS

    @classmethod
    def handles(cls, path: str, transport: str) -> bool:
        """SAS and other SCSI disks (SATA goes to hdparm first, see SANITIZERS)."""
        return transport in ("sas", "scsi")

    def _capabilities(self) -> Capabilities:
        out = self.tool("sg_opcodes", self.path, check=False)
        found, listed = parse_opcodes(out)
        blocked = []
        if not listed:
            # REPORT SUPPORTED OPERATION CODES is optional; FORMAT UNIT is mandatory in SBC.
            found = {"scsi-format-unit"}
            blocked = [(m, "the drive cannot list its opcodes") for m in _SANITIZE_ARGS]
        offered = tuple(m.name for m in METHODS if m.name in found)
        facts = {"opcodes_listed": listed, "answer": last_line(out) if not listed else ""}
        return Capabilities(self.path, "scsi", offered, tuple(blocked), False, facts)

    def _start(self, spec: Method) -> None:
        if spec.name in _SANITIZE_ARGS:
            args = ["sg_sanitize", "--quick", "--early", *_SANITIZE_ARGS[spec.name], self.path]
        else:
            args = ["sg_format", "--format", "--quick", "--wait", self.path]
            self.timeout = max(self.timeout, 24 * 3600.0)  # a full format takes hours
        out = self.tool(*args, check=False, record=True)
        # sg_sanitize exits 0 on a transport error (DID_ERROR): read the text, not the code.
        error = transport_error(out)
        if self.last_rc or error:
            raise FirmwareCommandFailed(args, self.last_rc, error or last_line(out))

    def _status(self, spec: Method) -> Status:
        if spec.name not in _SANITIZE_ARGS:
            return Status(done=True, message="format unit completed")
        return parse_progress(self.tool("sg_requests", "--progress", self.path, check=False))
