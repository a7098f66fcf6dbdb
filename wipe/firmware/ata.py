"""ATA Sanitize and ATA Security Erase through hdparm (which has no JSON output).

hdparm exits 0 even when the drive aborts a security command, so every step is checked three
ways: the sense data hdparm dumps on stderr (ABORTED COMMAND and friends), the drive's state read
back (`hdparm -I`), and, after the erase, the marker verification; never by the exit code
alone. The temporary password set for a security erase is always cleared again when anything
goes wrong, so no drive leaves the station locked.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from wipe.errors import DriveFrozen, FirmwareCommandFailed, WipeError
from wipe.firmware import Capabilities, FirmwareSanitizer, Method, Status, last_line

log = logging.getLogger(__name__)

YES = "--yes-i-know-what-i-am-doing"

METHODS = (
    Method("ata-sanitize-block", "ata", "block erase", ("ssd", "hdd"), "any",
           "ATA SANITIZE BLOCK ERASE EXT"),
    Method("ata-sanitize-crypto", "ata", "cryptographic erase", ("ssd", "hdd"), "changed",
           "ATA SANITIZE CRYPTO SCRAMBLE EXT"),
    Method("ata-sanitize-overwrite", "ata", "overwrite", ("hdd",), "zeros",
           "ATA SANITIZE OVERWRITE EXT, one pass of zeros"),
    Method("ata-secure-erase-enhanced", "ata", "secure erase (enhanced)", ("hdd",), "any",
           "ATA SECURITY ERASE UNIT, enhanced mode (temporary password, cleared after)"),
    Method("ata-secure-erase", "ata", "secure erase", ("hdd",), "any",
           "ATA SECURITY ERASE UNIT, normal mode (temporary password, cleared after)"),
)  # fmt: skip

_SANITIZE_ARGS = {
    "ata-sanitize-block": ["--sanitize-block-erase"],
    "ata-sanitize-crypto": ["--sanitize-crypto-scramble"],
    "ata-sanitize-overwrite": ["--sanitize-overwrite-passes", "1", "--sanitize-overwrite",
                               "hex:00000000"],
}  # fmt: skip
# hdparm prints the sense buffer of a command the drive refused ("bad/missing sense data") and
# still exits 0. These sense keys (SPC-4) mean the command did not do its work.
_SENSE_DUMP = re.compile(r"SG_IO: bad/missing sense data, sb\[\]:((?:\s+[0-9a-fA-F]{2})+)")
SENSE_KEYS = {
    0x2: "NOT READY", 0x3: "MEDIUM ERROR", 0x4: "HARDWARE ERROR", 0x5: "ILLEGAL REQUEST",
    0x6: "UNIT ATTENTION", 0x7: "DATA PROTECT", 0xB: "ABORTED COMMAND",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AtaIdentity:
    """The parts of `hdparm -I` that decide what may be run."""

    model: str = ""
    serial: str = ""
    security_supported: bool = False
    security_enabled: bool = False
    locked: bool = False
    frozen: bool = False
    enhanced_erase: bool = False
    erase_minutes: int | None = None
    enhanced_erase_minutes: int | None = None
    sanitize: bool = False
    block_erase: bool = False
    crypto_scramble: bool = False
    overwrite: bool = False
    hpa: bool = False
    features: tuple[str, ...] = field(default=(), repr=False)

    def to_facts(self) -> dict[str, Any]:
        """JSON-ready facts (no feature list)."""
        return {k: getattr(self, k) for k in self.__slots__ if k != "features"}


def parse_identify(text: str) -> AtaIdentity:
    """Parse `hdparm -I` text output."""
    model = _field(text, "Model Number")
    serial = _field(text, "Serial Number")
    features: list[str] = []
    for line in _section(text, "Commands/features:"):
        match = re.match(r"^\s*(\*?)\s*(.+?)\s*$", line)
        if match and not line.strip().startswith(("Enabled", "not")):
            features.append(match.group(2))
    security = {line.strip() for line in _section(text, "Security:")}
    sec_lines = [" ".join(s.split()) for s in security]
    times = re.search(r"(\d+)min for SECURITY ERASE UNIT", text)
    enh_times = re.search(r"(\d+)min for ENHANCED SECURITY ERASE UNIT", text)
    joined = "\n".join(features)
    return AtaIdentity(
        model=model,
        serial=serial,
        security_supported="supported" in sec_lines,
        security_enabled="enabled" in sec_lines,
        locked="locked" in sec_lines,
        frozen="frozen" in sec_lines,
        enhanced_erase="supported: enhanced erase" in sec_lines,
        erase_minutes=int(times.group(1)) if times else None,
        enhanced_erase_minutes=int(enh_times.group(1)) if enh_times else None,
        sanitize="SANITIZE feature set" in joined,
        block_erase="BLOCK_ERASE_EXT command" in joined,
        crypto_scramble="CRYPTO_SCRAMBLE_EXT command" in joined,
        overwrite="OVERWRITE_EXT command" in joined,
        hpa="Host Protected Area feature set" in joined,
        features=tuple(features),
    )


def parse_sanitize_status(text: str) -> Status:
    """Parse `hdparm --sanitize-status`: SD0 idle, SD1 frozen, SD2 in process."""
    progress = re.search(r"Progress:\s*0x([0-9a-fA-F]+)", text)
    fraction = int(progress.group(1), 16) / 65536 if progress else None
    if re.search(r"SD2\b|In Process", text):
        return Status(done=False, fraction=fraction, message="sanitize in progress")
    if re.search(r"SD1\b|Frozen", text):
        return Status(done=True, failed=True, message="sanitize is frozen")
    if re.search(r"Completed Without Error|operation succeeded", text, re.IGNORECASE):
        return Status(done=True, fraction=1.0, message="sanitize completed without error")
    if re.search(r"Fail|Error", text, re.IGNORECASE):
        return Status(done=True, failed=True, message="the drive reports the sanitize failed")
    return Status(done=False, message="waiting for the sanitize to report")


def drive_refusal(text: str) -> str:
    """Why the drive refused a command, from hdparm's sense dump; "" when it did not."""
    for match in _SENSE_DUMP.finditer(text):
        sense = bytes.fromhex("".join(match.group(1).split()))
        code = sense[0] & 0x7F if sense else 0
        if code in (0x70, 0x71) and len(sense) > 2:  # fixed format: key in byte 2
            key = sense[2] & 0x0F
        elif code in (0x72, 0x73) and len(sense) > 1:  # descriptor format: key in byte 1
            key = sense[1] & 0x0F
        else:
            continue
        if key in SENSE_KEYS:
            return f"the drive answered {SENSE_KEYS[key]} (sense key 0x{key:x})"
    return ""


def offered_methods(ident: AtaIdentity) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(offered methods, blocked methods with reasons) from the identify data."""
    supported = []
    if ident.sanitize and ident.block_erase:
        supported.append("ata-sanitize-block")
    if ident.sanitize and ident.crypto_scramble:
        supported.append("ata-sanitize-crypto")
    if ident.sanitize and ident.overwrite:
        supported.append("ata-sanitize-overwrite")
    if ident.security_supported:
        if ident.enhanced_erase:
            supported.append("ata-secure-erase-enhanced")
        supported.append("ata-secure-erase")
    blocked: list[tuple[str, str]] = []
    offered: list[str] = []
    for name in supported:
        security = name.startswith("ata-secure")
        if security and ident.frozen:
            blocked.append((name, f"security is frozen; {DriveFrozen.REMEDY}"))
        elif security and (ident.locked or ident.security_enabled):
            blocked.append((name, "a security password is already set; the drive needs it first"))
        else:
            offered.append(name)
    return tuple(offered), tuple(blocked)


class AtaSanitizer(FirmwareSanitizer):
    """hdparm: sanitize polled through `--sanitize-status`, and SECURITY ERASE UNIT."""

    family = "ata"
    METHODS = METHODS

    def __init__(self, path: str, *, timeout: float = 600.0) -> None:
        super().__init__(path, timeout=timeout)
        self.identity: AtaIdentity | None = None

    @classmethod
    def handles(cls, path: str, transport: str) -> bool:
        """SATA (and PATA) disks; USB bridges rarely pass ATA commands through."""
        return transport in ("sata", "ata")

    def _capabilities(self) -> Capabilities:
        self.identity = ident = parse_identify(self.tool("hdparm", "-I", self.path))
        offered, blocked = offered_methods(ident)
        return Capabilities(
            self.path, "ata", offered, blocked, ident.frozen and bool(blocked), ident.to_facts()
        )

    def _start(self, spec: Method) -> None:
        if spec.name in _SANITIZE_ARGS:
            if parse_sanitize_status(self.tool("hdparm", "--sanitize-status", self.path)).failed:
                raise DriveFrozen(self.path, spec.name)
            self.tool("hdparm", YES, *_SANITIZE_ARGS[spec.name], self.path, record=True)
            return
        self._security_erase(enhanced=spec.name == "ata-secure-erase-enhanced")

    def _status(self, spec: Method) -> Status:
        if spec.name not in _SANITIZE_ARGS:
            return Status(done=True, message="security erase completed")
        return parse_sanitize_status(self.tool("hdparm", "--sanitize-status", self.path))

    def _security_erase(self, *, enhanced: bool) -> None:
        """Set a temporary password, erase, and make sure the password is gone afterwards."""
        password = "wipe" + secrets.token_hex(4)
        try:
            # Inside the try: a drive that refuses in words may still have taken the password.
            self._security("SECURITY SET PASSWORD", "--security-set-pass", password)
            self._erase_with(password, enhanced=enhanced)
        except BaseException:
            self._clear_password(password)
            raise

    def _erase_with(self, password: str, *, enhanced: bool) -> None:
        # hdparm exits 0 when the drive aborts, so every step is checked by reading state back.
        ident = parse_identify(self.tool("hdparm", "-I", self.path))
        if not ident.security_enabled:
            raise FirmwareCommandFailed(
                ["hdparm", "--security-set-pass"], 0, "the drive did not enable security"
            )
        minutes = (ident.enhanced_erase_minutes if enhanced else ident.erase_minutes) or 600
        erase = "--security-erase-enhanced" if enhanced else "--security-erase"
        saved, self.timeout = self.timeout, minutes * 60 * 1.5 + 600
        try:
            self._security("SECURITY ERASE UNIT", erase, password)
        finally:
            self.timeout = saved
        if parse_identify(self.tool("hdparm", "-I", self.path)).security_enabled:
            raise FirmwareCommandFailed(
                ["hdparm", erase], 0, "security is still enabled: the erase did not run"
            )

    def _security(self, what: str, option: str, password: str) -> None:
        """Run one hdparm security command; the drive's refusal fails it, whatever the exit."""
        args = ("hdparm", "--user-master", "u", option, password, self.path)
        out = self.tool(*args, check=False, record=True, secret=password)
        refusal = drive_refusal(out)
        if self.last_rc or refusal:
            shown = [a if a != password else "***" for a in args]
            lied = " although hdparm exited 0" if refusal and not self.last_rc else ""
            raise FirmwareCommandFailed(
                shown, self.last_rc, f"{what}: {refusal or last_line(out)}{lied}"
            )

    def _clear_password(self, password: str) -> None:
        """Disable the temporary password; never leave a drive locked to a lost password."""
        try:
            self.tool("hdparm", "--user-master", "u", "--security-disable", password, self.path,
                      record=True, secret=password)  # fmt: skip
        except WipeError as e:
            log.warning("could not clear the temporary ATA password on %s: %s", self.path, e)


def _field(text: str, name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)}:\s*(.*?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else ""


def _section(text: str, header: str) -> list[str]:
    """Indented lines following a top-level `header` line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == header.strip() or line.rstrip() == header:
            out = []
            for nxt in lines[i + 1 :]:
                if nxt and not nxt[0].isspace():
                    break
                if nxt.strip():
                    out.append(nxt)
            return out
    return []
