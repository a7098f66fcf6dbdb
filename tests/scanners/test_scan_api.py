"""The scan half of the scanners package's public API."""

from __future__ import annotations

import scanners


def test_scan_names_are_public() -> None:
    for name in ("FileOptions", "RawOptions", "ScanOptions", "ScanReport", "Unscannable", "scan"):
        assert name in scanners.__all__
        assert getattr(scanners, name) is not None
    assert scanners.__all__ == sorted(scanners.__all__)
