"""Errors raised by the wipe library.

WipeError
├── GuardRefusal            the guard will not let anything write to the target
├── TargetNotFound          the device path or image file does not exist (also a FileNotFoundError)
└── NotATarget              the path exists but is neither a block device nor a regular file
"""

from __future__ import annotations


class WipeError(Exception):
    """Base for every error raised by the wipe library."""


class GuardRefusal(WipeError):
    """The target must not be written; `reason` says why."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"refusing to write {device}: {reason}")
        self.device, self.reason = device, reason


class TargetNotFound(WipeError, FileNotFoundError):
    """The device path or image file does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no such device or image file: {path}")
        self.path = path


class NotATarget(WipeError):
    """The path exists but is neither a block device nor a regular image file."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path} is a {kind}, not a block device or disk image file")
        self.path, self.kind = path, kind
