"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings.

`TextDetector` (Presidio and spaCy) lives in `scanners.text` and is not imported here, so that the
raw fast path does not pay for loading them. The public names are imported explicitly; the
station (asset_pipeline) uses only these.
"""

from __future__ import annotations

from scanners.errors import ScanError, UnreadableTarget
from scanners.fastpath import RAW_CATEGORIES, RawMatcher
from scanners.files import FileOptions
from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.raw import ExpectedPattern, RawOptions
from scanners.report import ScanReport, Unscannable
from scanners.scan import ScanOptions, scan

__all__ = [
    "CATEGORIES",
    "ExpectedPattern",
    "FileOptions",
    "Finding",
    "RAW_CATEGORIES",
    "RawMatcher",
    "RawOptions",
    "ScanError",
    "ScanOptions",
    "ScanReport",
    "UnreadableTarget",
    "Unscannable",
    "ValueHasher",
    "scan",
]
