"""Errors raised by the scanners library.

ScanError
└── UnreadableTarget     the scan target cannot be opened or read at all
"""

from __future__ import annotations


class ScanError(Exception):
    """Base for every error raised by the scanners library."""


class UnreadableTarget(ScanError):
    """The target cannot be opened or read at all (a partial read is a report entry instead)."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot scan {target}: {reason}")
        self.target, self.reason = target, reason
