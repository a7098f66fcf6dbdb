"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings."""

from scanners.errors import ScanError, UnreadableTarget
from scanners.fastpath import RAW_CATEGORIES, RawMatcher
from scanners.files import FileOptions
from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.raw import RawOptions
from scanners.report import ScanReport, Unscannable
from scanners.scan import ScanOptions, scan

__all__ = [
    "CATEGORIES",
    "RAW_CATEGORIES",
    "FileOptions",
    "Finding",
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
