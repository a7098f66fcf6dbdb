"""numpy for byte work (sorting digests, sampling and narrowing UTF-16 text), with one thread.

numpy here sorts, searches and counts, never multiplies matrices: OpenBLAS's thread pool would
only start (and spin) in every process that imports numpy, raw-pass workers included, which
inherit the setting. Every module of the scanner takes numpy from here, so whichever imports it
first, the setting comes before it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402 - after the setting above

__all__ = ["np"]
