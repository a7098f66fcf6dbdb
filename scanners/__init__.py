"""Personal-data discovery library: detectors, raw and file-aware scans, value-free findings.

`TextDetector` (Presidio and spaCy) lives in `scanners.text` and is not imported here, so that the
raw fast path does not pay for loading them.

Public names are imported on first use (PEP 562), so importing the errors does not load
the detectors.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# public name -> (module, name in that module)
_EXPORTS: dict[str, tuple[str, str]] = {
    "CATEGORIES": ("scanners.findings", "CATEGORIES"),
    "FileOptions": ("scanners.files", "FileOptions"),
    "Finding": ("scanners.findings", "Finding"),
    "RAW_CATEGORIES": ("scanners.fastpath", "RAW_CATEGORIES"),
    "RawMatcher": ("scanners.fastpath", "RawMatcher"),
    "RawOptions": ("scanners.raw", "RawOptions"),
    "ScanError": ("scanners.errors", "ScanError"),
    "ScanOptions": ("scanners.scan", "ScanOptions"),
    "ScanReport": ("scanners.report", "ScanReport"),
    "UnreadableTarget": ("scanners.errors", "UnreadableTarget"),
    "Unscannable": ("scanners.report", "Unscannable"),
    "ValueHasher": ("scanners.findings", "ValueHasher"),
    "scan": ("scanners.scan", "scan"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps a public function whose name is also a submodule's (`scan`).

    Importing a submodule binds it on its package under its own name, which would hide the
    function of that name; the eager `from x import y` this package replaced re-bound the
    function afterwards, and this does the same at the moment of binding.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        export = _EXPORTS.get(name)
        if export and isinstance(value, types.ModuleType) and value.__name__ == export[0]:
            value = getattr(value, export[1])
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
