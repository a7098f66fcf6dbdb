"""NVMe Sanitize and Format NVM with Secure Erase Settings, through nvme-cli's JSON output.

A sanitize acts on the whole controller, and a format may act on every namespace (FNA bits 0
and 1), so the active namespaces are counted (`nvme list-ns`; id-ctrl's `nn` is only how many
the controller could have: 256 on QEMU). A method that would erase other namespaces needs every
one of them cleared by the guard; one that erases only the target's namespace is not offered
while other namespaces hold data the drive would leave with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from wipe.errors import FirmwareCommandFailed, WipeError
from wipe.firmware import Capabilities, FirmwareSanitizer, Method, Status
from wipe.guard import check_writable

FLASH = ("nvme", "ssd")

# id-ctrl SANICAP bits (NVMe 1.4 figure 247) and the sanitize action each one allows.
SANICAP_CRYPTO, SANICAP_BLOCK, SANICAP_OVERWRITE = 0x1, 0x2, 0x4
OACS_FORMAT = 0x2  # Optional Admin Command Support bit 1: Format NVM
FNA_CRYPTO = 0x4  # Format NVM Attributes bit 2: crypto erase supported as part of secure erase
FNA_FORMAT_ALL = 0x1  # FNA bit 0: a format of any namespace formats all of them
FNA_ERASE_ALL = 0x2  # FNA bit 1: a secure erase (SES 1/2) applies to all namespaces

# Sanitize log SSTAT status field (NVMe 1.4 figure 211).
SSTAT_NEVER, SSTAT_DONE, SSTAT_RUNNING, SSTAT_FAILED, SSTAT_DONE_NO_DEALLOC = range(5)

METHODS = (
    Method("nvme-sanitize-block", "nvme", "block erase", FLASH, "any",
           "NVMe Sanitize, block erase of all user data, caches and spare blocks"),
    Method("nvme-sanitize-crypto", "nvme", "cryptographic erase", FLASH, "changed",
           "NVMe Sanitize, crypto erase: the media encryption key is replaced"),
    Method("nvme-sanitize-overwrite", "nvme", "overwrite", FLASH, "zeros",
           "NVMe Sanitize, overwrite of all media with zeros (one pass)"),
    Method("nvme-format-ses1", "nvme", "user data erase", FLASH, "any",
           "NVMe Format NVM with Secure Erase Settings 1 (user data erase)"),
    Method("nvme-format-ses2", "nvme", "cryptographic erase", FLASH, "changed",
           "NVMe Format NVM with Secure Erase Settings 2 (cryptographic erase)"),
)  # fmt: skip

_SANACT = {"nvme-sanitize-block": "2", "nvme-sanitize-overwrite": "3", "nvme-sanitize-crypto": "4"}


def controller_of(path: str) -> str:
    """The controller node of a namespace (/dev/nvme0n1 -> /dev/nvme0)."""
    match = re.match(r"^(/dev/nvme\d+)(?:n\d+)?$", path)
    return match.group(1) if match else path


def parse_id_ctrl(text: str) -> dict[str, Any]:
    """The capability fields of `nvme id-ctrl -o json`."""
    data = json.loads(text)
    return {
        "model": str(data.get("mn", "")).strip(),
        "serial": str(data.get("sn", "")).strip(),
        "firmware": str(data.get("fr", "")).strip(),
        "oacs": int(data.get("oacs", 0)),
        "sanicap": int(data.get("sanicap", 0)),
        "fna": int(data.get("fna", 0)),
        "max_namespaces": int(data.get("nn", 0)),  # NN: the most it supports, not how many
    }


def parse_list_ns(text: str) -> tuple[int, ...]:
    """Active namespace IDs from `nvme list-ns -o json CONTROLLER` (nvme-cli 2.x)."""
    data = json.loads(text)
    if not isinstance(data, dict) or "nsid_list" not in data:
        raise ValueError("no nsid_list in nvme-cli output")
    return tuple(sorted(int(e["nsid"]) for e in data["nsid_list"] if int(e.get("nsid", 0)) > 0))


def namespace_of(path: str) -> int | None:
    """The namespace ID in a namespace node's name (/dev/nvme0n2 -> 2)."""
    match = re.match(r"^/dev/nvme\d+n(\d+)$", path)
    return int(match.group(1)) if match else None


def erases_all_namespaces(method: str, fna: int) -> bool:
    """True when `method` erases every namespace of the controller, not just the one named."""
    if method in _SANACT:
        return True  # Sanitize acts on the whole NVM subsystem
    return bool(fna & (FNA_FORMAT_ALL | FNA_ERASE_ALL))


def scope_check(
    path: str, facts: dict[str, Any], offered: tuple[str, ...]
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """(still offered, blocked) once the other active namespaces are taken into account."""
    active = facts.get("namespaces") or []
    others = [n for n in active if n != namespace_of(path)]
    if not others:
        return offered, []
    kept, blocked = [], []
    for method in offered:
        if erases_all_namespaces(method, facts["fna"]):
            kept.append(method)
        else:
            ids = ", ".join(str(n) for n in active)
            blocked.append((
                method,
                f"the controller has {len(active)} active namespaces ({ids}) and {method} erases "
                f"only namespace {namespace_of(path)}; the others would keep their data",
            ))  # fmt: skip
    return tuple(kept), blocked


def offered_methods(facts: dict[str, Any]) -> tuple[str, ...]:
    """Methods the identify fields allow, strongest first."""
    sanicap, oacs, fna = facts["sanicap"], facts["oacs"], facts["fna"]
    offered = []
    if sanicap & SANICAP_BLOCK:
        offered.append("nvme-sanitize-block")
    if sanicap & SANICAP_CRYPTO:
        offered.append("nvme-sanitize-crypto")
    if sanicap & SANICAP_OVERWRITE:
        offered.append("nvme-sanitize-overwrite")
    if oacs & OACS_FORMAT:
        offered.append("nvme-format-ses1")
        if fna & FNA_CRYPTO:
            offered.append("nvme-format-ses2")
    return tuple(offered)


def parse_sanitize_log(text: str) -> tuple[int, int]:
    """(status, progress out of 65536) from `nvme sanitize-log -o json`.

    nvme-cli nests the log under the device name and prints `sstat` either as a number (1.x)
    or as an object whose `status` reads "(1) ..." (2.x); both are accepted.
    """
    data = json.loads(text)
    log = data
    if "sprog" not in data:
        log = next((v for v in data.values() if isinstance(v, dict) and "sprog" in v), {})
    if "sprog" not in log:
        raise ValueError("no sanitize log in nvme-cli output")
    sstat = log.get("sstat", 0)
    if isinstance(sstat, dict):
        match = re.match(r"\((\d+)\)", str(sstat.get("status", "")))
        status = int(match.group(1)) if match else int(sstat.get("status", 0))
    else:
        status = int(sstat) & 0x7
    return status, int(log["sprog"])


class NvmeSanitizer(FirmwareSanitizer):
    """nvme-cli: `sanitize` polled through `sanitize-log`, and `format --ses`."""

    family = "nvme"
    METHODS = METHODS

    def __init__(self, path: str, *, timeout: float = 600.0) -> None:
        super().__init__(path, timeout=timeout)
        self.controller = controller_of(path)
        self._seen_running = False
        self._polls = 0
        self._facts: dict[str, Any] | None = None

    @classmethod
    def handles(cls, path: str, transport: str) -> bool:
        """NVMe namespaces and controllers."""
        return transport == "nvme" or re.search(r"/nvme\d+(n\d+)?$", path) is not None

    def _capabilities(self) -> Capabilities:
        facts = parse_id_ctrl(self.tool("nvme", "id-ctrl", self.controller, "-o", "json"))
        facts["namespaces"] = list(self._active_namespaces())
        self._facts = facts
        offered, blocked = scope_check(self.path, facts, offered_methods(facts))
        if facts["oacs"] & OACS_FORMAT and not facts["fna"] & FNA_CRYPTO:
            blocked.append(("nvme-format-ses2", "FNA says crypto erase is not supported"))
        return Capabilities(self.path, "nvme", offered, tuple(blocked), False, facts)

    def _active_namespaces(self) -> tuple[int, ...]:
        """Active namespace IDs; sysfs's namespace nodes when nvme-cli cannot list them."""
        try:
            return parse_list_ns(self.tool("nvme", "list-ns", self.controller, "-o", "json"))
        except (WipeError, ValueError, KeyError) as e:
            name = Path(self.controller).name
            found = sorted(
                int(m.group(1))
                for entry in Path("/sys/class/nvme", name).glob(f"{name}n*")
                if (m := re.fullmatch(rf"{name}n(\d+)", entry.name))
            )
            if not found:
                raise FirmwareCommandFailed(["nvme", "list-ns"], None, str(e)) from e
            return tuple(found)

    def _guard_other_namespaces(self, spec: Method, facts: dict[str, Any]) -> None:
        """A controller-wide erase reaches every namespace: each must pass the guard too."""
        if not erases_all_namespaces(spec.name, facts["fna"]):
            return
        for nsid in facts.get("namespaces") or []:
            node = f"{self.controller}n{nsid}"
            if node != self.path and Path(node).exists():
                check_writable(node)

    def _start(self, spec: Method) -> None:
        # run() read the capabilities just before; the same facts decide the erase's scope.
        self._guard_other_namespaces(spec, self._facts or self.capabilities().facts)
        if spec.name in _SANACT:
            args = ["nvme", "sanitize", self.controller, "-a", _SANACT[spec.name]]
            if spec.name == "nvme-sanitize-overwrite":
                args += ["--ovrpat=0", "--owpass=1"]
            self.tool(*args, record=True)
            return
        ses = "1" if spec.name == "nvme-format-ses1" else "2"
        # Format NVM is synchronous: when nvme-cli returns, the drive has finished.
        self.tool("nvme", "format", self.path, f"--ses={ses}", "--force", record=True)

    def _status(self, spec: Method) -> Status:
        if spec.name not in _SANACT:
            return Status(done=True, message="format completed")
        out = self.tool("nvme", "sanitize-log", self.controller, "-o", "json")
        try:
            status, progress = parse_sanitize_log(out)
        except (ValueError, json.JSONDecodeError) as e:
            raise FirmwareCommandFailed(["nvme", "sanitize-log"], None, str(e)) from e
        self._polls += 1
        if status == SSTAT_RUNNING:
            self._seen_running = True
            return Status(done=False, fraction=progress / 65536, message="sanitize in progress")
        if status == SSTAT_FAILED:
            return Status(done=True, failed=True, message="the drive reports the sanitize failed")
        # A log that says "done" before we ever saw "running" may be an older sanitize's.
        if status in (SSTAT_DONE, SSTAT_DONE_NO_DEALLOC) and (
            self._seen_running or self._polls >= 3
        ):
            return Status(done=True, fraction=1.0, message="sanitize completed")
        return Status(done=False, message="waiting for the sanitize to start")
