"""The raw pass's values as fixed-size records in a numpy array: no Python object a value.

A 1 GB drive of documents and mail logs holds about 11 million values. As `Finding` rows each
one cost a named tuple, two ints and a 64-character hex digest, then a pass of Python counting
(about 0.45 us a value, more than matching it). The raw pass needs only where a value lies,
its category and its digest's first 16 bytes (what `scanners.digests.DigestSet` keeps), so
`scanners._hot.confirm_records` writes those as 32-byte records, and `scanners.report.Tally`
counts them with numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.arrays import np
from scanners.digests import key_of
from scanners.findings import CATEGORIES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scanners.findings import Finding

# As `scanners._hot` writes them (native byte order): where the value starts on the target,
# its length in bytes, its category's index in `CATEGORIES`, then 16 bytes of its digest.
RECORD = np.dtype(
    [("offset", "=i8"), ("length", "=u4"), ("category", "u1"), ("pad", "V3"), ("head", "V16")]
)
INDEX_OF = {category: i for i, category in enumerate(CATEGORIES)}


def empty() -> np.ndarray:
    """No records."""
    return np.empty(0, dtype=RECORD)


def from_bytes(raw: bytes) -> np.ndarray:
    """The records `scanners._hot.confirm_records` wrote (a read-only view, no copy)."""
    return np.frombuffer(raw, dtype=RECORD)


def of_findings(findings: Iterable[Finding]) -> np.ndarray:
    """Records of findings: the pure-Python path, and the tests' way to compare both."""
    found = list(findings)
    out = np.zeros(len(found), dtype=RECORD)
    if found:
        out["offset"] = [f.offset for f in found]
        out["length"] = [f.length for f in found]
        out["category"] = [INDEX_OF[f.category] for f in found]
        out["head"] = [key_of(f.digest) for f in found]
    return out


def by_offset(records: np.ndarray) -> np.ndarray:
    """The records in offset order (stable: equal offsets keep their order)."""
    offsets = records["offset"]
    if len(offsets) < 2 or bool(np.all(offsets[1:] >= offsets[:-1])):
        return records
    return records[np.argsort(offsets, kind="stable")]


def within(records: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The records that start in [lo, hi)."""
    offsets = records["offset"]
    return records[(offsets >= lo) & (offsets < hi)]


def joined(parts: list[np.ndarray]) -> np.ndarray:
    """One array of several, in their order."""
    if not parts:
        return empty()
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
