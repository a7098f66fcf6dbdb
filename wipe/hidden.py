"""Hidden areas of ATA drives: the Host Protected Area (HPA) and Device Configuration Overlay (DCO).

Both make a drive report fewer sectors than its media has, so an overwrite of the visible size
misses them. They are detected with `hdparm -N` and `hdparm --dco-identify`; with the operator's
consent the native max address is restored before the wipe. The report says what happened, so a
certificate never claims the whole drive when a hidden area stayed out of reach.
"""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wipe.errors import HiddenAreaError
from wipe.guard import check_writable

log = logging.getLogger(__name__)

STATUSES = ("not-checked", "none", "present", "removed", "erased", "could-not-be-removed")


@dataclass(frozen=True, slots=True)
class HiddenAreas:
    """HPA/DCO state of a drive and what was done about it."""

    device: str
    status: str  # one of STATUSES
    current_max: int | None = None  # sectors the host sees
    native_max: int | None = None  # sectors without the HPA
    dco_max: int | None = None  # sectors without the DCO
    detail: str = ""

    @property
    def hidden_sectors(self) -> int:
        """Sectors beyond what the host sees (0 when none or unknown)."""
        if self.current_max is None:
            return 0
        top = max(self.native_max or 0, self.dco_max or 0, self.current_max)
        return top - self.current_max

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "status": self.status,
            "current_max_sectors": self.current_max,
            "native_max_sectors": self.native_max,
            "dco_max_sectors": self.dco_max,
            "hidden_sectors": self.hidden_sectors,
            "detail": self.detail,
        }


def parse_native_max(text: str) -> tuple[int, int]:
    """(current, native) max sectors from `hdparm -N` ("max sectors = 976773168/976773168")."""
    match = re.search(r"max sectors\s*=\s*(\d+)\s*/\s*(\d+)", text)
    if not match:
        raise HiddenAreaError(f"hdparm -N gave no max sectors: {text.strip()[:200]!r}")
    return int(match.group(1)), int(match.group(2))


def parse_dco_max(text: str) -> int | None:
    """Real max sectors from `hdparm --dco-identify`, or None when the drive has no DCO."""
    match = re.search(r"Real max sectors:\s*(\d+)", text)
    return int(match.group(1)) if match else None


def detect(path: str, transport: str) -> HiddenAreas:
    """Read HPA and DCO state; only ATA drives have them (others report `not-checked`)."""
    if transport not in ("sata", "ata"):
        return HiddenAreas(path, "not-checked", detail=f"no HPA/DCO on {transport or 'this'} media")
    try:
        current, native = parse_native_max(_hdparm("-N", path))
    except HiddenAreaError as e:
        return HiddenAreas(path, "not-checked", detail=str(e))
    dco: int | None = None
    try:
        dco = parse_dco_max(_hdparm("--dco-identify", path))
    except HiddenAreaError as e:
        log.debug("no DCO information for %s: %s", path, e)
    if dco is not None and dco < current:
        dco = None  # drives without a DCO answer garbage ("Real max sectors: 1" under QEMU)
    areas = HiddenAreas(path, "none", current, native, dco)
    if areas.hidden_sectors:
        return replace(areas, status="present", detail=_describe(areas))
    return areas


def restore_native_max(path: str, areas: HiddenAreas, *, consent: bool) -> HiddenAreas:
    """Make the hidden sectors addressable again, if the operator agreed.

    Raises:
        GuardRefusal: the write guard refused the drive.
    """
    if areas.status != "present":
        return areas
    if not consent:
        return replace(areas, detail=_describe(areas) + "; not removed: no consent")
    check_writable(path)
    try:
        if areas.dco_max and areas.dco_max > (areas.native_max or 0):
            _hdparm("--yes-i-know-what-i-am-doing", "--dco-restore", path)
        _, native = parse_native_max(_hdparm("-N", path))
        _hdparm("--yes-i-know-what-i-am-doing", "-N", f"p{native}", path)
        _rescan(path)
        current, native = parse_native_max(_hdparm("-N", path))
    except HiddenAreaError as e:
        return replace(areas, status="could-not-be-removed", detail=str(e))
    now = replace(areas, current_max=current, native_max=native)
    if now.hidden_sectors:
        return replace(now, status="could-not-be-removed", detail=_describe(now))
    return replace(now, status="removed", detail=f"native max restored to {current} sectors")


def after_wipe(areas: HiddenAreas, wiped_bytes: int, sector_size: int = 512) -> HiddenAreas:
    """Record whether the wipe reached every sector the drive has."""
    if areas.status not in ("removed", "present"):
        return areas
    top = max(areas.native_max or 0, areas.dco_max or 0, areas.current_max or 0)
    if wiped_bytes >= top * sector_size:
        return replace(areas, status="erased", detail=areas.detail + "; the wipe covered them")
    return replace(
        areas,
        status="could-not-be-removed",
        detail=f"{areas.hidden_sectors} hidden sectors were not wiped",
    )


def _describe(areas: HiddenAreas) -> str:
    parts = []
    if areas.native_max and areas.current_max is not None and areas.native_max > areas.current_max:
        parts.append(f"HPA hides {areas.native_max - areas.current_max} sectors")
    if areas.dco_max and areas.dco_max > max(areas.native_max or 0, areas.current_max or 0):
        parts.append(f"DCO hides {areas.dco_max - max(areas.native_max or 0, 0)} sectors")
    return "; ".join(parts) or "no hidden sectors"


def _hdparm(*args: str) -> str:
    try:
        done = subprocess.run(
            ["hdparm", *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise HiddenAreaError(f"hdparm {' '.join(args)}: {e}") from e
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        raise HiddenAreaError(
            f"hdparm {' '.join(args)} failed (exit {done.returncode})"
            + (f": {tail[-1]}" if tail else "")
        )
    return done.stdout


def _rescan(path: str) -> None:
    """Ask the SCSI layer to re-read the capacity after the max address changed."""
    rescan = Path("/sys/class/block") / Path(path).name / "device" / "rescan"
    try:
        rescan.write_text("1")
    except OSError as e:
        log.debug("rescan of %s failed: %s", path, e)
