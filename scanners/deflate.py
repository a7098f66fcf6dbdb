"""The raw pass's inflater: zlib-ng where it is installed, else zlib.

zlib-ng inflates the 1.02 GB mixed bench image's mail logs at about half zlib's cost (1.05
against 2.02 ns a byte of output). It gives the same output, in the same pieces under an output
limit, and fails where zlib fails on damaged input (`tests/scanners/test_deflate.py` compares
the two on thousands of damaged streams); only its exception class is its own, so `ERRORS`
holds both.
"""

from __future__ import annotations

import zlib

try:
    from zlib_ng import zlib_ng as _inflater
except ImportError:  # the package is a dependency; a build without its wheel still scans
    _inflater = zlib  # type: ignore[assignment]

decompressobj = _inflater.decompressobj
ERRORS: tuple[type[Exception], ...] = (zlib.error, _inflater.error)
