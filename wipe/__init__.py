"""Sanitization library: write guard, overwrite engine, firmware purge and verification.

Public names are imported on first use (PEP 562), so a command that needs only the
guard does not pay for the whole library.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# public name -> (module, name in that module)
_EXPORTS: dict[str, tuple[str, str]] = {
    "BlockFacts": ("wipe.blockdev", "BlockFacts"),
    "ByteRange": ("wipe.overwrite", "ByteRange"),
    "Capabilities": ("wipe.firmware", "Capabilities"),
    "DeviceGone": ("wipe.errors", "DeviceGone"),
    "DriveFailing": ("wipe.errors", "DriveFailing"),
    "DriveFrozen": ("wipe.errors", "DriveFrozen"),
    "EraseEvidence": ("wipe.markers", "EraseEvidence"),
    "FirmwareCommandFailed": ("wipe.errors", "FirmwareCommandFailed"),
    "FirmwareResult": ("wipe.firmware", "FirmwareResult"),
    "FirmwareSanitizer": ("wipe.firmware", "FirmwareSanitizer"),
    "GuardRefusal": ("wipe.errors", "GuardRefusal"),
    "Health": ("wipe.health", "Health"),
    "HiddenAreaError": ("wipe.errors", "HiddenAreaError"),
    "HiddenAreas": ("wipe.hidden", "HiddenAreas"),
    "InsufficientMethod": ("wipe.errors", "InsufficientMethod"),
    "LEVELS": ("wipe.plan", "LEVELS"),
    "MEDIA": ("wipe.plan", "MEDIA"),
    "Method": ("wipe.firmware", "Method"),
    "MethodNotSupported": ("wipe.errors", "MethodNotSupported"),
    "NotATarget": ("wipe.errors", "NotATarget"),
    "OVERWRITES": ("wipe.plan", "OVERWRITES"),
    "OverwriteResult": ("wipe.overwrite", "OverwriteResult"),
    "Pattern": ("wipe.pattern", "Pattern"),
    "Plan": ("wipe.plan", "Plan"),
    "SANITIZERS": ("wipe.firmware", "SANITIZERS"),
    "Target": ("wipe.target", "Target"),
    "TargetBusy": ("wipe.errors", "TargetBusy"),
    "TargetNotFound": ("wipe.errors", "TargetNotFound"),
    "VerificationFailed": ("wipe.errors", "VerificationFailed"),
    "VerificationResult": ("wipe.verification", "VerificationResult"),
    "WipeError": ("wipe.errors", "WipeError"),
    "WipeResult": ("wipe.sanitization", "WipeResult"),
    "capabilities_of": ("wipe.firmware", "capabilities_of"),
    "check_erase": ("wipe.markers", "check_erase"),
    "check_health": ("wipe.health", "check_health"),
    "check_writable": ("wipe.guard", "check_writable"),
    "choose": ("wipe.plan", "choose"),
    "detect_hidden_areas": ("wipe.hidden", "detect"),
    "inspect": ("wipe.blockdev", "inspect"),
    "open_target": ("wipe.target", "open_target"),
    "overwrite": ("wipe.overwrite", "overwrite"),
    "plant_markers": ("wipe.markers", "plant_markers"),
    "refusal_reasons": ("wipe.guard", "refusal_reasons"),
    "restore_native_max": ("wipe.hidden", "restore_native_max"),
    "sample_ranges": ("wipe.verification", "sample_ranges"),
    "sanitize": ("wipe.sanitization", "sanitize"),
    "sanitizer_for": ("wipe.firmware", "sanitizer_for"),
    "verify": ("wipe.verification", "verify"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps a public function whose name is also a submodule's (`overwrite`, `scan`).

    Importing a submodule binds it on its package under its own name, which would hide the
    function of that name; the eager `from x import y` this package replaced re-bound the
    function afterwards, and this does the same at the moment of binding.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        export = _EXPORTS.get(name)
        if export and isinstance(value, types.ModuleType) and value.__name__ == export[0]:
            value = getattr(value, export[1])
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
