"""Sanitization library: write guard, overwrite engine, firmware purge and verification."""

from wipe.blockdev import BlockFacts, inspect
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
    capabilities_of,
    sanitizer_for,
)
from wipe.guard import check_writable, refusal_reasons
from wipe.health import Health, check_health
from wipe.hidden import HiddenAreas, restore_native_max
from wipe.hidden import detect as detect_hidden_areas
from wipe.markers import EraseEvidence, check_erase, plant_markers
from wipe.overwrite import ByteRange, OverwriteResult, overwrite
from wipe.pattern import Pattern
from wipe.plan import LEVELS, MEDIA, OVERWRITES, Plan, choose
from wipe.sanitization import WipeResult, sanitize
from wipe.target import Target, open_target
from wipe.verification import VerificationResult, sample_ranges, verify

__all__ = [
    "BlockFacts",
    "ByteRange",
    "Capabilities",
    "DeviceGone",
    "DriveFailing",
    "DriveFrozen",
    "EraseEvidence",
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
    "Target",
    "TargetBusy",
    "TargetNotFound",
    "VerificationFailed",
    "VerificationResult",
    "WipeError",
    "WipeResult",
    "capabilities_of",
    "check_erase",
    "check_health",
    "check_writable",
    "choose",
    "detect_hidden_areas",
    "inspect",
    "open_target",
    "overwrite",
    "plant_markers",
    "refusal_reasons",
    "restore_native_max",
    "sample_ranges",
    "sanitize",
    "sanitizer_for",
    "verify",
]
