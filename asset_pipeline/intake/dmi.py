"""The identity of the machine the station runs on, from SMBIOS/DMI (`/sys/class/dmi/id`).

When a laptop is wiped by booting the station on it, its own firmware says what it is: the
system manufacturer, product name, serial number and UUID (SMBIOS type 1) and the chassis
asset tag and serial (type 3), which IT departments set to their inventory number. The kernel
publishes these under /sys/class/dmi/id; the serials and the UUID are readable by root only.

Firmware is filled in by vendors, often with placeholders ("To Be Filled By O.E.M.", "Default
string", "0123456789"); those read as empty. A value that looks like personal data (a user's
e-mail address typed as the asset tag) is not taken either, and the identity says so.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from asset_pipeline.errors import IntakeError
from asset_pipeline.evidence.privacy import screen

DMI_DIR = Path("/sys/class/dmi/id")
# Our field -> the sysfs attribute (SMBIOS type 1 = system, type 3 = chassis).
ATTRIBUTES = {
    "manufacturer": "sys_vendor",
    "model": "product_name",
    "version": "product_version",
    "serial": "product_serial",
    "uuid": "product_uuid",
    "asset_tag": "chassis_asset_tag",
    "chassis_serial": "chassis_serial",
    "chassis_type": "chassis_type",
}
_PLACEHOLDERS = frozenset(
    {
        "", "none", "n/a", "na", "not specified", "not applicable", "not available",
        "to be filled by o.e.m.", "to be filled by oem", "default string", "default",
        "system serial number", "chassis serial number", "system product name",
        "system manufacturer", "system version", "asset tag", "asset-1234567890",
        "no asset tag", "no asset information", "0123456789", "1234567890", "invalid",
        "unknown", "oem", "o.e.m.", "type1productconfigid", "sku", "x.x",
    }
)  # fmt: skip
_BLANK_UUID = re.compile(r"^(0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$", re.I)
# A UUID firmware ships on many boards unchanged: it identifies no machine.
_SHARED_UUIDS = frozenset({"03000200-0400-0500-0006-000700080009"})
MAX_VALUE = 100


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """What SMBIOS says this machine is ("" where the firmware says nothing useful)."""

    manufacturer: str = ""
    model: str = ""
    version: str = ""
    serial: str = ""
    uuid: str = ""
    asset_tag: str = ""
    chassis_serial: str = ""
    chassis_type: str = ""
    withheld: tuple[str, ...] = field(default=())  # fields not taken: they looked personal

    @property
    def codes(self) -> tuple[str, ...]:
        """What to match against an asset list, strongest first: asset tag, serials."""
        return tuple(c for c in (self.asset_tag, self.serial, self.chassis_serial) if c)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the asset's stored identity and `--json`)."""
        data = asdict(self)
        data["withheld"] = list(self.withheld)
        return data


def read_identity(root: Path = DMI_DIR) -> MachineIdentity:
    """Read the machine's identity from the DMI attributes under `root`.

    Raises:
        IntakeError: there is no DMI information (not a PC, or a container without it), or
            the serials cannot be read (they need root).
    """
    if not root.is_dir():
        raise IntakeError(f"no SMBIOS/DMI information at {root}: is this the asset itself?")
    values: dict[str, str] = {}
    withheld: list[str] = []
    for name, attribute in ATTRIBUTES.items():
        try:
            raw = (root / attribute).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except PermissionError as e:
            raise IntakeError(f"cannot read {root / attribute}: the serials need root") from e
        value = _clean(name, raw)
        if value and screen(value) is not None:
            withheld.append(name)
            value = ""
        values[name] = value
    if not any(values.get(k) for k in ("manufacturer", "model", "serial", "uuid", "asset_tag")):
        raise IntakeError(f"the SMBIOS/DMI information at {root} names no machine")
    return MachineIdentity(**values, withheld=tuple(withheld))


def _clean(name: str, raw: str) -> str:
    value = " ".join(raw.replace("\x00", "").split())[:MAX_VALUE]
    if value.casefold() in _PLACEHOLDERS:
        return ""
    if name == "uuid" and (_BLANK_UUID.match(value) or value.lower() in _SHARED_UUIDS):
        return ""
    if name == "uuid":
        return value.lower()
    return value
