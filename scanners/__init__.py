"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings.

`TextDetector` (Presidio and spaCy) lives in `scanners.text` and is not imported here, so that the
raw fast path does not pay for loading them. The public names are imported explicitly; the
station (asset_pipeline) uses only these.
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from scanners.errors import ScanError, UnreadableTarget
    from scanners.fastpath import RAW_CATEGORIES, RawMatcher
    from scanners.files import FileOptions
    from scanners.findings import CATEGORIES, Finding, ValueHasher
    from scanners.raw import ExpectedPattern, RawOptions
    from scanners.report import ScanReport, Unscannable
    from scanners.scan import ScanOptions, scan

# Where each public name lives. They are imported on first use (PEP 562), so that a raw-pass
# worker process, which needs only the fast path, does not import the file pass and its file
# system libraries (0.4 s of start-up, on the critical path of every scan's first page).
_HOMES = {
    "ScanError": "scanners.errors",
    "UnreadableTarget": "scanners.errors",
    "RAW_CATEGORIES": "scanners.fastpath",
    "RawMatcher": "scanners.fastpath",
    "FileOptions": "scanners.files",
    "CATEGORIES": "scanners.findings",
    "Finding": "scanners.findings",
    "ValueHasher": "scanners.findings",
    "ExpectedPattern": "scanners.raw",
    "RawOptions": "scanners.raw",
    "ScanReport": "scanners.report",
    "Unscannable": "scanners.report",
    "ScanOptions": "scanners.scan",
    "scan": "scanners.scan",
}


def __getattr__(name: str) -> _Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'scanners' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value
    return value


class _Package(_types.ModuleType):
    """A package whose public names are never replaced by submodules of the same name.

    Importing `scanners.scan` binds that module on the package; `scanners.scan` stays the
    function, as the eager import used to leave it.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HOMES and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package

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
