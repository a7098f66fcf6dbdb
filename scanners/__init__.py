"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings.

`TextDetector` (Presidio and spaCy) lives in `scanners.text` and is not imported here, so that the
raw fast path does not pay for loading them.
"""

from scanners.errors import ScanError, UnreadableTarget
from scanners.fastpath import RAW_CATEGORIES, RawMatcher
from scanners.findings import CATEGORIES, Finding, ValueHasher

__all__ = [
    "CATEGORIES",
    "Finding",
    "RAW_CATEGORIES",
    "RawMatcher",
    "ScanError",
    "UnreadableTarget",
    "ValueHasher",
]
