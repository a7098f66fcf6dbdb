"""Errors raised by the wipe library.

WipeError
├── GuardRefusal            the guard will not let anything write to the target
├── TargetNotFound          the device path or image file does not exist (also a FileNotFoundError)
├── NotATarget              the path exists but is neither a block device nor a regular file
├── TargetBusy              another process holds the target open (O_EXCL or a file lock failed)
├── DeviceGone              the device disappeared or lost its media while being used
├── MethodNotSupported      the drive (or this station) cannot run the requested method
│   └── DriveFrozen         ATA security/sanitize is frozen until a power cycle of the drive
├── InsufficientMethod      the requested method does not reach the required level
├── DriveFailing            SMART says the drive is failing: only destruction is possible
├── FirmwareCommandFailed   a sanitize/format tool failed or the drive reported failure
├── HiddenAreaError         HPA/DCO could not be read or the native max could not be restored
└── VerificationFailed      read-back did not match what the sanitization promised
"""

from __future__ import annotations

from collections.abc import Sequence


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


class TargetBusy(WipeError):
    """Another process has the target open, so it cannot be opened exclusively."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is in use by another process (exclusive open failed)")
        self.path = path


class DeviceGone(WipeError):
    """The device vanished or lost its media during the operation."""

    def __init__(self, path: str, detail: str = "") -> None:
        text = f"{path} disappeared during the operation"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.path, self.detail = path, detail
        self.bytes_done: int | None = None  # how far a write pass got, when one was running


class MethodNotSupported(WipeError):
    """The requested method is not offered for this drive; `offered` lists what is."""

    def __init__(self, path: str, method: str, why: str, offered: Sequence[str] = ()) -> None:
        tail = f" (offered: {', '.join(offered)})" if offered else ""
        super().__init__(f"{method} is not possible on {path}: {why}{tail}")
        self.path, self.method, self.why, self.offered = path, method, why, tuple(offered)


class DriveFrozen(MethodNotSupported):
    """ATA security or sanitize commands are frozen; the remedy is a power cycle of the drive."""

    REMEDY = (
        "unfreeze it by suspending and resuming the station (echo mem > /sys/power/state) "
        "or by unplugging and re-plugging the drive's power, then try again"
    )

    def __init__(self, path: str, method: str) -> None:
        super().__init__(path, method, f"the drive is frozen; {self.REMEDY}")


class InsufficientMethod(WipeError):
    """The requested method does not reach the level the agreement requires."""

    def __init__(self, method: str, reaches: str, required: str, media: str) -> None:
        super().__init__(
            f"{method} reaches only {reaches} on {media} media; the agreement requires {required}"
        )
        self.method, self.reaches, self.required, self.media = method, reaches, required, media


class DriveFailing(WipeError):
    """The drive reports it is failing (SMART), so no wipe of it may lead to a certificate."""

    def __init__(self, path: str, method: str, reasons: Sequence[str]) -> None:
        super().__init__(
            f"{method} refused on {path}: the drive reports it is failing "
            f"({'; '.join(reasons)}); destroy it"
        )
        self.path, self.method, self.reasons = path, method, tuple(reasons)


class FirmwareCommandFailed(WipeError):
    """A firmware sanitize or format command failed, or the drive reported failure."""

    def __init__(self, command: Sequence[str], returncode: int | None, detail: str = "") -> None:
        shown = " ".join(command)
        code = "" if returncode is None else f" (exit {returncode})"
        super().__init__(f"{shown} failed{code}" + (f": {detail}" if detail else ""))
        self.command, self.returncode, self.detail = tuple(command), returncode, detail


class HiddenAreaError(WipeError):
    """A host protected area or device configuration overlay could not be read or removed."""


class VerificationFailed(WipeError):
    """The read-back did not match the expected content."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"verification failed on {path}: {detail}")
        self.path, self.detail = path, detail
