"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings."""

from scanners.errors import ScanError, UnreadableTarget
from scanners.fastpath import RAW_CATEGORIES, RawMatcher
from scanners.findings import CATEGORIES, Finding, ValueHasher

__all__ = [
    "CATEGORIES",
    "RAW_CATEGORIES",
    "Finding",
    "RawMatcher",
    "ScanError",
    "UnreadableTarget",
    "ValueHasher",
]
