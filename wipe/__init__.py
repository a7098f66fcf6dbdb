"""Sanitization library: write guard, overwrite engine, firmware purge and verification."""

from wipe.blockdev import BlockFacts, inspect
from wipe.errors import GuardRefusal, NotATarget, TargetNotFound, WipeError
from wipe.guard import check_writable, refusal_reasons

__all__ = [
    "BlockFacts",
    "GuardRefusal",
    "NotATarget",
    "TargetNotFound",
    "WipeError",
    "check_writable",
    "inspect",
    "refusal_reasons",
]
