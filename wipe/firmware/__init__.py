"""Firmware sanitize commands (NIST SP 800-88 Purge) through the standard tools.

`FirmwareSanitizer.run()` does the bookkeeping every family shares: the write guard, checking
that the drive offers the method, polling until the drive reports completion, progress and
timing. A family module only says how to detect capabilities (`_capabilities`), how to start
(`_start`) and how to read the status (`_status`).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wipe.errors import DriveFrozen, FirmwareCommandFailed, MethodNotSupported, WipeError
from wipe.guard import check_writable

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (per-mille done, 1000)


@dataclass(frozen=True, slots=True)
class Method:
    """One firmware sanitize technique as a drive family offers it."""

    name: str  # what `--method` takes: "nvme-format-ses1"
    family: str  # nvme | ata | scsi
    technique: str  # NIST wording: block erase, cryptographic erase, overwrite, secure erase
    purge_on: tuple[str, ...]  # media types on which NIST SP 800-88 counts it as Purge
    expected: str  # what the sample holds afterwards: zeros | ones | changed | any
    description: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a drive's identify data says it can do."""

    device: str
    family: str  # nvme | ata | scsi
    offered: tuple[str, ...]  # method names usable now
    blocked: tuple[tuple[str, str], ...] = ()  # (method, why not) for supported-but-unusable
    frozen: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # parsed identify fields

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "device": self.device,
            "family": self.family,
            "offered": list(self.offered),
            "blocked": [{"method": m, "reason": r} for m, r in self.blocked],
            "frozen": self.frozen,
            "facts": self.facts,
        }


@dataclass(frozen=True, slots=True)
class Status:
    """One poll of a running operation."""

    done: bool
    failed: bool = False
    fraction: float | None = None  # 0..1 when the drive reports progress
    message: str = ""


@dataclass(frozen=True, slots=True)
class FirmwareResult:
    """What a firmware sanitize did."""

    device: str
    method: str
    technique: str
    commands: tuple[str, ...]
    seconds: float
    outcome: str  # passed | failed | aborted
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The step as it appears in the wipe result JSON."""
        return {
            "step": "firmware",
            "method": self.method,
            "technique": self.technique,
            "commands": list(self.commands),
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "message": self.message,
        }


class FirmwareSanitizer:
    """Base of the per-family sanitizers; subclasses fill `_capabilities`, `_start`, `_status`."""

    family: ClassVar[str] = ""
    METHODS: ClassVar[tuple[Method, ...]] = ()

    def __init__(self, path: str, *, timeout: float = 600.0) -> None:
        self.path = path
        self.timeout = timeout  # per tool call; the operation itself is polled
        self.commands: list[str] = []
        self.last_rc = 0  # exit code of the last tool run (for tools whose exit codes lie)

    @classmethod
    def handles(cls, path: str, transport: str) -> bool:
        """True when this family's tools apply to a drive on `transport`."""
        raise NotImplementedError

    @classmethod
    def method(cls, name: str) -> Method | None:
        """This family's method called `name`."""
        return next((m for m in cls.METHODS if m.name == name), None)

    def capabilities(self) -> Capabilities:
        """Ask the drive what it supports (runs the family's identify tool)."""
        return self._capabilities()

    def run(
        self,
        method: str,
        *,
        on_progress: Progress | None = None,
        cancel: threading.Event | None = None,
        poll_interval: float = 5.0,
        max_seconds: float | None = None,
    ) -> FirmwareResult:
        """Run `method` on the drive and wait until the drive reports it finished.

        Raises:
            GuardRefusal: the write guard refused the drive.
            DriveFrozen: the method is supported but frozen; the message gives the remedy.
            MethodNotSupported: the drive does not offer `method`.
            FirmwareCommandFailed: the tool failed or the drive reported failure.
        """
        check_writable(self.path)
        spec = self.method(method)
        if spec is None:
            raise MethodNotSupported(self.path, method, f"not a {self.family} method")
        caps = self.capabilities()
        why = dict(caps.blocked).get(method)
        if why is not None and caps.frozen:
            raise DriveFrozen(self.path, method)
        if method not in caps.offered:
            raise MethodNotSupported(
                self.path, method, why or "the drive does not report it", caps.offered
            )
        start = time.monotonic()
        self._start(spec)
        while True:
            status = self._status(spec)
            if status.fraction is not None and on_progress is not None:
                on_progress(int(status.fraction * 1000), 1000)
            if status.failed:
                raise FirmwareCommandFailed(self.commands[-1:], None, status.message)
            if status.done:
                break
            if cancel is not None and cancel.is_set():
                return self._result(spec, start, "aborted", "stopped waiting; the drive goes on")
            if max_seconds is not None and time.monotonic() - start > max_seconds:
                raise FirmwareCommandFailed(self.commands[-1:], None, "timed out while polling")
            time.sleep(poll_interval)
        if on_progress is not None:
            on_progress(1000, 1000)
        return self._result(spec, start, "passed", status.message)

    def _result(self, spec: Method, start: float, outcome: str, message: str) -> FirmwareResult:
        return FirmwareResult(
            device=self.path,
            method=spec.name,
            technique=spec.technique,
            commands=tuple(self.commands),
            seconds=time.monotonic() - start,
            outcome=outcome,
            message=message,
        )

    def tool(self, *args: str, check: bool = True, record: bool = False, secret: str = "") -> str:
        """Run a tool, return stdout; failures become FirmwareCommandFailed with the tool's words.

        Raises:
            MethodNotSupported: the tool is not installed.
            FirmwareCommandFailed: non-zero exit (when `check`).
        """
        shown = [("***" if secret and a == secret else a) for a in args]
        if record:
            self.commands.append(" ".join(shown))
        try:
            done = subprocess.run(
                list(args),
                capture_output=True,
                text=True,
                errors="replace",  # sg3_utils prints raw designator bytes
                timeout=self.timeout,
                check=check,
            )
        except FileNotFoundError as e:
            raise MethodNotSupported(self.path, args[0], f"{args[0]} is not installed") from e
        except subprocess.CalledProcessError as e:
            raise FirmwareCommandFailed(shown, e.returncode, last_line(e.stderr or e.stdout)) from e
        except subprocess.TimeoutExpired as e:
            raise FirmwareCommandFailed(shown, None, f"no answer in {self.timeout:.0f} s") from e
        self.last_rc = done.returncode
        return done.stdout + (done.stderr if not check else "")

    def _capabilities(self) -> Capabilities:
        raise NotImplementedError

    def _start(self, spec: Method) -> None:
        raise NotImplementedError

    def _status(self, spec: Method) -> Status:
        raise NotImplementedError


def last_line(text: str) -> str:
    """The last non-empty line of a tool's output (where tools put the reason)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


from wipe.firmware.ata import AtaSanitizer  # noqa: E402
from wipe.firmware.nvme import NvmeSanitizer  # noqa: E402
from wipe.firmware.scsi import ScsiSanitizer  # noqa: E402

# NVMe is recognised by name; ATA must be tried before SCSI, because a SATA disk is also a SCSI
# (sd) device and its own ATA commands reach the media, while SAT translation may not.
SANITIZERS: list[type[FirmwareSanitizer]] = [NvmeSanitizer, AtaSanitizer, ScsiSanitizer]


def sanitizer_for(path: str, transport: str) -> FirmwareSanitizer | None:
    """The sanitizer whose tools apply to this drive, or None (loop, virtio, images, mmc)."""
    for cls in SANITIZERS:
        if cls.handles(path, transport):
            return cls(path)
    return None


def capabilities_of(path: str, transport: str) -> Capabilities | None:
    """What the drive's identify data offers, or None when no family applies or it won't say.

    A missing tool or an unanswered identify offers no firmware method (the plan then falls
    back to an overwrite or to destroy); the reason is logged.
    """
    sanitizer = sanitizer_for(path, transport)
    if sanitizer is None:
        return None
    try:
        return sanitizer.capabilities()
    except WipeError as e:
        log.info("no firmware methods for %s: %s", path, e)
        return None


def find_method(name: str) -> Method | None:
    """A firmware method of any family by name."""
    for cls in SANITIZERS:
        found = cls.method(name)
        if found is not None:
            return found
    return None


def all_methods() -> list[Method]:
    """Every firmware method of every family, in registry order."""
    return [m for cls in SANITIZERS for m in cls.METHODS]


__all__ = [
    "SANITIZERS",
    "Capabilities",
    "FirmwareResult",
    "FirmwareSanitizer",
    "Method",
    "Status",
    "all_methods",
    "find_method",
    "sanitizer_for",
]
