"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings."""

from scanners.errors import ScanError, UnreadableTarget

__all__ = ["ScanError", "UnreadableTarget"]
