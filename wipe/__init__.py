"""Sanitization library: write guard, overwrite engine, firmware purge and verification.

The public names, imported explicitly; the station (asset_pipeline) uses only these.
"""

from __future__ import annotations

from wipe.blockdev import BlockFacts, inspect, list_disk_names, read_sysfs, sysfs_dir
from wipe.errors import (
    DeviceGone,
    DriveFailing,
    DriveFrozen,
    FirmwareCommandFailed,
    GuardRefusal,
    HiddenAreaError,
    InsufficientMethod,
    MethodNotSupported,
    NotATarget,
    TargetBusy,
    TargetNotFound,
    VerificationFailed,
    WipeError,
)
from wipe.firmware import (
    SANITIZERS,
    Capabilities,
    FirmwareResult,
    FirmwareSanitizer,
    Method,
    all_methods,
    capabilities_of,
    sanitizer_for,
)
from wipe.guard import check_target, check_writable, refusal_reasons
from wipe.health import Health, check_health
from wipe.hidden import HiddenAreas, restore_native_max
from wipe.hidden import detect as detect_hidden_areas
from wipe.markers import EraseEvidence, check_erase, plant_markers
from wipe.overwrite import FaultRange, OverwriteResult, overwrite
from wipe.pattern import Pattern
from wipe.plan import LEVELS, MEDIA, OVERWRITES, Plan, choose
from wipe.sanitization import WipeResult, final_pattern, sanitize
from wipe.stack import Survey
from wipe.target import Target, open_target
from wipe.verification import VerificationResult, sample_ranges, verify

__all__ = [
    "BlockFacts",
    "Capabilities",
    "DeviceGone",
    "DriveFailing",
    "DriveFrozen",
    "EraseEvidence",
    "FaultRange",
    "FirmwareCommandFailed",
    "FirmwareResult",
    "FirmwareSanitizer",
    "GuardRefusal",
    "Health",
    "HiddenAreaError",
    "HiddenAreas",
    "InsufficientMethod",
    "LEVELS",
    "MEDIA",
    "Method",
    "MethodNotSupported",
    "NotATarget",
    "OVERWRITES",
    "OverwriteResult",
    "Pattern",
    "Plan",
    "SANITIZERS",
    "Survey",
    "Target",
    "TargetBusy",
    "TargetNotFound",
    "VerificationFailed",
    "VerificationResult",
    "WipeError",
    "WipeResult",
    "all_methods",
    "capabilities_of",
    "check_erase",
    "check_health",
    "check_target",
    "check_writable",
    "choose",
    "detect_hidden_areas",
    "final_pattern",
    "inspect",
    "list_disk_names",
    "open_target",
    "overwrite",
    "plant_markers",
    "read_sysfs",
    "refusal_reasons",
    "restore_native_max",
    "sample_ranges",
    "sanitize",
    "sanitizer_for",
    "sysfs_dir",
    "verify",
]
