"""Errors raised by the scanners library.

ScanError
├── UnreadableTarget     the scan target cannot be opened or read at all
└── JobFailed            a file-pass job failed in a worker (its error's kind only)
"""

from __future__ import annotations


def error_kind(e: BaseException) -> str:
    """What went wrong, for a "not scannable" reason: the OS error's text or the error's type.

    Never the message of a parser's exception: it can quote bytes of the drive, which may be
    personal data.
    """
    if isinstance(e, JobFailed):
        return e.kind
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return type(e).__name__


class ScanError(Exception):
    """Base for every error raised by the scanners library."""


class UnreadableTarget(ScanError):
    """The target cannot be opened or read at all (a partial read is a report entry instead)."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot scan {target}: {reason}")
        self.target, self.reason = target, reason


class JobFailed(ScanError):
    """A worker's job that failed, by `error_kind` of its error: it pickles whatever the error."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
