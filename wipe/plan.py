"""Method choice: from the required level, the media and the drive's capabilities, a plan.

NIST SP 800-88 Rev. 1, Appendix A, in short: an overwrite is Clear on every medium (on flash it
cannot reach spare and remapped blocks, so it is never Purge); Purge needs the drive's own
sanitize command (or a NVMe format with secure erase); a medium that offers none of them cannot
be purged and must be destroyed. The plan says so instead of silently doing less. A drive that
reports it is failing (SMART, see `wipe.health`) is destroyed at either level: remapped and
unreadable blocks keep their data, so no wipe of it can honestly be certified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wipe.errors import DriveFailing, DriveFrozen, InsufficientMethod, MethodNotSupported
from wipe.firmware import Capabilities, Method, find_method
from wipe.health import Health

LEVELS = ("clear", "purge")
MEDIA = ("hdd", "ssd", "nvme", "usb", "emmc", "virtual", "image", "unknown")
FLASH = ("ssd", "nvme", "usb", "emmc")
DESTROY = "destroy"
OVERWRITES: dict[str, tuple[str, ...]] = {
    "overwrite-random": ("random",),
    "overwrite-random-zero": ("random", "zeros"),
    "overwrite-zeros": ("zeros",),
    "overwrite-ones": ("ones",),
}
DEFAULT_OVERWRITE = "overwrite-random"


@dataclass(frozen=True, slots=True)
class Plan:
    """What will be done to a drive, and why."""

    level: str  # required: clear | purge
    method: str  # an overwrite, a firmware method, or "destroy"
    category: str  # what the method reaches on this media: clear | purge | destroy
    reason: str
    media_type: str
    passes: tuple[str, ...] = ()  # overwrite patterns in order
    expected: str = ""  # what verification expects afterwards
    alternatives: tuple[str, ...] = ()  # other methods that also meet the level

    @property
    def firmware(self) -> Method | None:
        """The firmware method, when the plan uses one."""
        return find_method(self.method)

    def to_dict(self) -> dict[str, Any]:
        """The `plan` object of the wipe result JSON."""
        return {
            "level": self.level,
            "method": self.method,
            "reason": self.reason,
            "category": self.category,
            "media_type": self.media_type,
            "passes": list(self.passes),
            "alternatives": list(self.alternatives),
        }


def reaches(method: str, media: str) -> str:
    """The NIST category `method` reaches on `media`: clear, purge or destroy."""
    if method == DESTROY:
        return DESTROY
    if method in OVERWRITES:
        return "clear"
    spec = find_method(method)
    if spec is None:
        raise ValueError(f"unknown method {method!r}")
    both = {"ssd", "hdd"} <= set(spec.purge_on)
    return "purge" if media in spec.purge_on or (media == "unknown" and both) else "clear"


def choose(
    level: str,
    media: str,
    capabilities: Capabilities | None = None,
    method: str | None = None,
    health: Health | None = None,
) -> Plan:
    """The strongest suitable plan, or the operator's `method` if it meets the level.

    A drive whose `health` says it is failing gets "destroy" whatever the level.

    Raises:
        ValueError: unknown level, media or method name.
        DriveFailing: `method` was requested for a drive that reports it is failing.
        DriveFrozen: `method` is supported but frozen.
        MethodNotSupported: `method` is a firmware method the drive does not offer.
        InsufficientMethod: `method` does not reach `level` on this media.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be clear or purge, not {level!r}")
    if media not in MEDIA:
        raise ValueError(f"unknown media type {media!r}; expected one of {', '.join(MEDIA)}")
    offered = capabilities.offered if capabilities else ()
    if health is not None and health.failing:
        if method is not None and method != DESTROY:
            raise DriveFailing(health.device, method, health.reasons)
        return Plan(level, DESTROY, DESTROY, _why_failing(health), media)
    if method is not None:
        return _requested(level, media, capabilities, method)
    purges = [m for m in offered if reaches(m, media) == "purge"]
    firmware_first = level == "purge" or media in FLASH or media == "unknown"
    if purges and firmware_first:
        why = (
            "the drive's own sanitize reaches spare and remapped blocks an overwrite cannot"
            if media in FLASH
            else "the drive's own sanitize command is NIST Purge for this media"
        )
        return _plan(level, media, purges[0], f"{_spec(purges[0])}: {why}", offered)
    if level == "clear":
        why = (
            "single-pass AES-256-CTR keystream is NIST Clear; unlike zeros it cannot be "
            "compressed or faked by a controller, and every byte can be verified"
        )
        if purges:
            why += f" (firmware purge also offered: {', '.join(purges)})"
        return _plan(level, media, DEFAULT_OVERWRITE, why, offered)
    return Plan(level, DESTROY, DESTROY, _why_destroy(media, capabilities), media)


def _requested(level: str, media: str, caps: Capabilities | None, method: str) -> Plan:
    if method == DESTROY:
        return Plan(level, DESTROY, DESTROY, "destruction requested by the operator", media)
    if method not in OVERWRITES:
        if find_method(method) is None:
            raise ValueError(f"unknown method {method!r}")
        device = caps.device if caps else "this drive"
        blocked = dict(caps.blocked) if caps else {}
        if caps is not None and caps.frozen and method in blocked:
            raise DriveFrozen(device, method)
        if caps is None or method not in caps.offered:
            why = blocked.get(method, "the drive does not report support for it")
            raise MethodNotSupported(device, method, why, caps.offered if caps else ())
    got = reaches(method, media)
    if level == "purge" and got != "purge":
        raise InsufficientMethod(method, got, level, media)
    return _plan(level, media, method, "requested by the operator", caps.offered if caps else ())


def _plan(level: str, media: str, method: str, reason: str, offered: tuple[str, ...]) -> Plan:
    passes = OVERWRITES.get(method, ())
    spec = find_method(method)
    expected = passes[-1] if passes else (spec.expected if spec else "any")
    others = [m for m in (*offered, *OVERWRITES) if m != method]
    meeting = tuple(m for m in others if level == "clear" or reaches(m, media) == "purge")
    return Plan(level, method, reaches(method, media), reason, media, passes, expected, meeting)


def _spec(name: str) -> str:
    spec = find_method(name)
    return spec.description if spec else name


def _why_failing(health: Health) -> str:
    return (
        f"the drive reports it is failing ({'; '.join(health.reasons)}, from {health.source}): "
        "a wipe cannot reach its remapped or unreadable blocks and it may fail mid-way, so no "
        "certificate is possible; destroy the device"
    )


def _why_destroy(media: str, caps: Capabilities | None) -> str:
    if caps is not None and caps.frozen:
        return (
            "Purge required, and the drive's sanitize/security commands are frozen: "
            f"{DriveFrozen.REMEDY}; until then the only Purge-level outcome is destruction"
        )
    if media in ("virtual", "image"):
        return (
            f"Purge required, but a {media} target sits on storage this station cannot "
            "sanitize (the backing store may keep copies); purge or destroy the physical media"
        )
    if media in ("usb", "emmc"):
        return (
            f"Purge required, and {media} flash offers no sanitize command this station can "
            "issue; an overwrite is only Clear on flash, so the device must be destroyed"
        )
    offered = ", ".join(caps.offered) if caps and caps.offered else "none"
    blocked = "".join(f"; {m} blocked: {why}" for m, why in caps.blocked) if caps else ""
    return (
        f"Purge required, and the drive offers no firmware method that is Purge on {media} "
        f"media (offered: {offered}{blocked}); an overwrite is only Clear, so destroy the device"
    )
