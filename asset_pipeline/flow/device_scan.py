"""The pipeline's scan step: scan a registered device and store its summary (never values).

Distinct counts come from keyed hashes; the key belongs to the device's batch
(`batch.finding_key`, 32 random bytes made when first needed), so the same value on two devices
of one batch counts once across the batch, while batches cannot be correlated with each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from asset_pipeline.errors import PipelineError
from scanners import FileOptions, RawOptions, ScanOptions, ValueHasher, scan

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from asset_pipeline.storage import Batch, Device, ScanSummary
    from scanners import ExpectedPattern, ScanReport

KEY_BYTES = 32
ScanProgress = Callable[[str, int, int], None]


def scan_target(
    path: str | os.PathLike[str],
    key: bytes,
    passes: tuple[str, ...] = ("raw", "files"),
    *,
    expected: ExpectedPattern | None = None,
    on_progress: ScanProgress | None = None,
    processes: bool = True,
) -> ScanReport:
    """Scan a device or image with a finding key (the CLI's ad-hoc scan and `scan_device`).

    Args:
        path: block device or image file (opened read-only).
        key: the batch's finding key (distinct counts are keyed hashes under it).
        passes: "raw" and/or "files".
        expected: the bytes a completed wipe left at (offset, length), skipped cheaply.
        on_progress: (pass, bytes done, bytes total) callback.
        processes: let both passes match in worker processes on large targets; a station
            already running one process per drive passes False.
    """
    raw = RawOptions() if processes else RawOptions(processes_from=None)
    files = FileOptions() if processes else FileOptions(processes_from=None)
    options = ScanOptions(passes=passes, raw=raw, files=files, expected=expected)
    return scan(path, ValueHasher(key), options, on_progress=on_progress)


def batch_key(batch: Batch) -> bytes:
    """The batch's finding key, created on first use (batches opened before it existed)."""
    if not batch.finding_key:
        batch.finding_key = os.urandom(KEY_BYTES)
    return batch.finding_key


def scan_device(
    session: Session,
    device: Device,
    phase: str,
    *,
    passes: tuple[str, ...] = ("raw", "files"),
    expected: ExpectedPattern | None = None,
    on_progress: ScanProgress | None = None,
) -> ScanSummary:
    """Scan `device` and add its `ScanSummary` row to `session` (flushed, not committed).

    Args:
        session: the station's session; the caller commits with the step's audit event.
        device: a registered device; its batch's key makes the distinct counts.
        phase: "pre" (before sanitizing), "post" (must find nothing) or "adhoc".
        passes: which passes to run.
        expected: the wipe pattern a post-wipe scan expects, skipped cheaply where found:
            `pattern.filler(8 << 20).expected` of the `wipe.pattern.Pattern` that was written.
        on_progress: (pass, bytes done, bytes total) callback.

    Raises:
        PipelineError: unknown phase, or the device is in no batch.
        ScanError: the device cannot be read at all.
    """
    # Imported here: the ad-hoc `scan` command needs no database, and loading SQLAlchemy took
    # 0.17 s before its worker processes could start.
    from asset_pipeline.storage import scans

    scans.check_phase(phase)  # before the scan, which may take hours
    if device.batch is None:
        raise PipelineError(f"device {device.id} is in no batch; its scan would have no batch key")
    report = scan_target(
        Path(device.path),
        batch_key(device.batch),
        passes,
        expected=expected,
        on_progress=on_progress,
    )
    return scans.store_scan(session, device.id, phase, report)
