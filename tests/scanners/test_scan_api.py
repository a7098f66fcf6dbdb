"""The scan half of the scanners package's public API."""

from __future__ import annotations

import types

import scanners


def test_scan_names_are_public() -> None:
    for name in ("FileOptions", "RawOptions", "ScanOptions", "ScanReport", "Unscannable", "scan"):
        assert name in scanners.__all__
        assert getattr(scanners, name) is not None


def test_the_scan_function_is_not_hidden_by_its_submodule() -> None:
    # Importing scanners.scan binds the submodule on the package under the function's name;
    # the package must keep the function there.
    import scanners.scan  # noqa: F401

    assert callable(scanners.scan)
    assert not isinstance(scanners.scan, types.ModuleType)
