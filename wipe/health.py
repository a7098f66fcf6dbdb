"""Drive health from SMART: a drive that reports it is failing is destroyed, never certified.

An overwrite or a firmware erase of a failing drive proves little: remapped and unreadable
blocks keep their old content, and the drive may die halfway. So a drive whose SMART overall
health says FAILED, whose NVMe critical warning is set, or whose pre-failure attributes are at
their threshold gets the plan "destroy" (see `wipe.plan.choose`). Health is read with
`smartctl -j -H -A` (every family); NVMe drives fall back to `nvme smart-log -o json`. A drive
that cannot tell (no SMART, an unknown USB bridge, a missing tool) is `unknown`, which does not
block a wipe: the verification still has the last word.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "unknown")
# NVMe SMART / Health log, Critical Warning bits (NVMe 1.4, figure 194).
CRITICAL_WARNING_BITS = (
    (0x01, "available spare below threshold"),
    (0x02, "temperature outside its thresholds"),
    (0x04, "NVM subsystem reliability degraded"),
    (0x08, "media placed in read-only mode"),
    (0x10, "volatile memory backup device failed"),
    (0x20, "persistent memory region read-only or unreliable"),
)
# smartctl exit status bits (smartctl(8), RETURN VALUES).
EXIT_CANNOT_OPEN = 0x02
EXIT_DISK_FAILING = 0x08
EXIT_PREFAIL_NOW = 0x10
# Transports where SMART does not exist, so asking costs a process for nothing.
NO_SMART = ("loop", "image", "virtio", "dm", "md", "mmc")


@dataclass(frozen=True, slots=True)
class Health:
    """What the drive says about its own health."""

    device: str
    status: str  # passed | failed | unknown
    source: str  # the command that said so ("" when nothing could be asked)
    reasons: tuple[str, ...] = ()  # why failed (or why unknown)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def failing(self) -> bool:
        """True when the drive reports failure (unknown is not failing)."""
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as `asset-pipeline wipe --json` prints it under `health`."""
        return {
            "status": self.status,
            "source": self.source,
            "reasons": list(self.reasons),
            "facts": self.facts,
        }


def critical_warning_reasons(value: int) -> list[str]:
    """The NVMe critical warning bits in words (unknown bits by number)."""
    reasons = [text for bit, text in CRITICAL_WARNING_BITS if value & bit]
    rest = value & ~sum(bit for bit, _ in CRITICAL_WARNING_BITS)
    if rest:
        reasons.append(f"reserved critical warning bits 0x{rest:02x}")
    return [f"NVMe critical warning 0x{value:02x}: {', '.join(reasons)}"] if reasons else []


def parse_smartctl(device: str, text: str) -> Health:
    """`smartctl -j -H -A` (or `-a`) JSON: overall health, NVMe warning, failing attributes."""
    data = json.loads(text)
    exit_status = int(data.get("smartctl", {}).get("exit_status", 0))
    source = "smartctl -H -A"
    facts: dict[str, Any] = {"smartctl_exit_status": exit_status}
    status = data.get("smart_status", {})
    if "passed" not in status:
        messages = [m.get("string", "") for m in data.get("smartctl", {}).get("messages", [])]
        why = "; ".join(m for m in messages if m) or (
            "smartctl could not open the device or identify it"
            if exit_status & EXIT_CANNOT_OPEN
            else "the drive reports no SMART health status"
        )
        return Health(device, "unknown", source, (why,), facts)
    reasons: list[str] = []
    if not status["passed"]:
        reasons.append("SMART overall-health self-assessment FAILED")
    nvme_log = data.get("nvme_smart_health_information_log", {})
    warning = int(nvme_log.get("critical_warning", status.get("nvme", {}).get("value", 0)))
    if nvme_log or "nvme" in status:
        facts["critical_warning"] = warning
        reasons += critical_warning_reasons(warning)
    failing = [
        f"SMART attribute {a.get('id')} {a.get('name', '?')} at or below its threshold"
        for a in data.get("ata_smart_attributes", {}).get("table", [])
        if a.get("when_failed") == "now" and a.get("flags", {}).get("prefailure")
    ]
    reasons += failing
    if exit_status & (EXIT_DISK_FAILING | EXIT_PREFAIL_NOW) and not reasons:
        reasons.append(f"smartctl reports a failing disk (exit status 0x{exit_status:02x})")
    facts["smart_passed"] = bool(status["passed"])
    return Health(device, "failed" if reasons else "passed", source, tuple(reasons), facts)


def parse_nvme_smart_log(device: str, text: str) -> Health:
    """`nvme smart-log -o json`: the critical warning byte decides."""
    data = json.loads(text)
    if "critical_warning" not in data:
        return Health(device, "unknown", "nvme smart-log", ("no critical_warning in the log",))
    warning = int(data["critical_warning"])
    reasons = critical_warning_reasons(warning)
    facts = {"critical_warning": warning, "media_errors": int(data.get("media_errors", 0))}
    return Health(device, "failed" if reasons else "passed", "nvme smart-log", tuple(reasons),
                  facts)  # fmt: skip


def check_health(path: str, transport: str, *, timeout: float = 60.0) -> Health:
    """Ask the drive at `path` about its health; never raises (unknown says why instead)."""
    if transport in NO_SMART:
        return Health(path, "unknown", "", (f"no SMART on a {transport} device",))
    health = _smartctl(path, [], timeout)
    if health.status == "unknown" and "Unknown USB bridge" in " ".join(health.reasons):
        # Most USB-SATA bridges pass ATA commands through SAT; smartctl only needs telling.
        sat = _smartctl(path, ["-d", "sat"], timeout)
        health = sat if sat.status != "unknown" else health
    if health.status == "unknown" and transport == "nvme":
        controller = re.sub(r"n\d+$", "", path)
        out = _run(["nvme", "smart-log", controller, "-o", "json"], timeout)
        if out is not None:
            try:
                return parse_nvme_smart_log(path, out)
            except (ValueError, json.JSONDecodeError) as e:
                log.debug("unreadable nvme smart-log for %s: %s", path, e)
    return health


def _smartctl(path: str, extra: list[str], timeout: float) -> Health:
    out = _run(["smartctl", "-j", "-H", "-A", *extra, path], timeout)
    if out is None:
        return Health(path, "unknown", "", ("smartctl could not be run",))
    try:
        return parse_smartctl(path, out)
    except (ValueError, json.JSONDecodeError):
        return Health(path, "unknown", "smartctl -H -A", ("smartctl printed no JSON",))


def _run(args: list[str], timeout: float) -> str | None:
    """The stdout of a tool whatever its exit code (smartctl's code is a bit mask), or None."""
    try:
        return subprocess.run(
            args, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        log.debug("%s: %s", args[0], e)
        return None
