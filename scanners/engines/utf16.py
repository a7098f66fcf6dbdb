"""UTF-16LE text as 8-bit text: the narrow view hyperscan matches in place of the UTF-16 patterns.

See `scanners.engines.hyperscan` for why. numpy does the byte work, a few passes in C per
buffer (Python's strided byte slicing is 4-20 times slower), from the first buffer judged on
(the scan imports it anyway, for `scanners.digests`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Smaller buffers keep the UTF-16 patterns: the views would cost more than they save.
MIN_SIZE = 64 << 10
# Units sampled to judge a buffer, and the share of them that must look like UTF-16LE text
# (printable ASCII, high byte 0) in one alignment: about where the UTF-16 patterns start to cost
# more than the views (measured on the detector benchmark's text).
_SAMPLES = 4096
_SHARE = 0.25


def mostly_utf16(data: bytes | memoryview) -> bool:
    """Whether a good share of `data` looks like UTF-16LE text, judged on evenly spread units."""
    n = len(data)
    if n < MIN_SIZE:
        return False
    step = max(2, (n // _SAMPLES) & ~1)  # even, so each sample keeps one alignment
    from scanners.arrays import np

    # Strided views of the buffer, not copies: slicing a memoryview (a piece of a page) with a
    # step cost 50 us a call, as much as matching 100 KB of text.
    raw = np.frombuffer(data, dtype=np.uint8)
    for parity in (0, 1):
        low = raw[parity : n - 1 : step]
        high = raw[parity + 1 :: step][: len(low)]
        # Most buffers fail on counts of zero bytes alone: 8-bit text and binary data have too
        # few zero high bytes, zero-filled space has zero low bytes too.
        zero_high = len(high) - np.count_nonzero(high)
        if zero_high < _SHARE * len(high) or np.count_nonzero(low) < _SHARE * len(low):
            continue
        text = np.count_nonzero((high == 0) & (low >= 0x20) & (low < 0x7F))
        if text >= _SHARE * len(low):
            return True
    return False


def narrow(data: bytes | memoryview, parity: int) -> NDArray[np.uint8]:
    """One byte per UTF-16LE unit starting at byte `parity`: the unit if Latin-1, else 0xFF.

    Offset i of the view is byte 2 * i + parity of `data`.
    """
    from scanners.arrays import np

    units = np.frombuffer(data, dtype="<u2", offset=parity, count=(len(data) - parity) // 2)
    view = units.astype(np.uint8)
    view[units > 0xFF] = 0xFF
    return view
