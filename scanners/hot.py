"""The compiled hot path (`scanners._hot`, C) or its pure-Python twin, chosen once at import.

Luhn, the personnummer date and checksum, IBAN mod 97 and the keyed digest run once per
candidate or per value of the raw fast path; in C each costs a fraction of a microsecond. The C
extension is built when the package installs where a C compiler and the Python headers exist
(Debian: gcc, python3-dev). Without it, or with `ASSET_PIPELINE_PURE_PYTHON=1` in the
environment, the Python functions in `scanners.identifiers` and `scanners.findings` run instead;
both give the same findings (tests/scanners/test_hot.py runs the corpus through each).
"""

from __future__ import annotations

import logging
import os
from types import ModuleType

log = logging.getLogger(__name__)

PURE_ENV = "ASSET_PIPELINE_PURE_PYTHON"


def _load() -> ModuleType | None:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        from scanners import _hot
    except ImportError:
        log.debug("scanners._hot is not built; the pure-Python hot path runs")
        return None
    return _hot


compiled: ModuleType | None = _load()
COMPILED = compiled is not None
