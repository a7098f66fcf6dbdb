"""Distinct keyed digests in bounded memory: 16 bytes a value, not a Python string in a set.

A drive of mail logs holds millions of distinct addresses; a `set` of 64-character hex strings
costs about 150 bytes a value (1.5 GB for 10 million). `DigestSet` keeps the first 128 bits of
each HMAC-SHA256 digest (two 64-bit words) in a numpy array sorted by the first word, and folds
new digests in by batches, so memory is 16 bytes a value plus a batch buffer. Two different
values share a 128-bit prefix with a probability of about n² / 2^129 (below 10^-24 for 10^7
values): the distinct count is exact in practice, never an estimate as a HyperLogLog's is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator

# numpy here sorts and searches, never multiplies matrices: OpenBLAS's thread pool would only
# start (and spin) in every raw-pass worker process, which inherits this setting.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402 - after the setting above

_WIDTH = 16  # bytes kept of each digest, as two unsigned 64-bit words
_MIN_BATCH = 1 << 16


def _empty() -> np.ndarray:
    return np.empty((0, 2), dtype=np.uint64)


def _merged(rows: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """`_distinct` of both sets of distinct rows, by inserting the batch's new rows into `rows`.

    Sorting the two together needed about 4.5 times the set's memory at its peak (a copy, the
    sort's indexes, the sorted copy, the result): 470 MB more for a set of 126 MB. Inserting
    needs the set and its successor. Where a first word of the batch is in the set with another
    second word (about never), they are sorted together as before.
    """
    if not len(rows) or not len(batch):
        return batch if len(batch) else rows
    at = np.searchsorted(rows[:, 0], batch[:, 0])
    inside = at < len(rows)
    same_first = np.zeros(len(batch), dtype=bool)
    same_first[inside] = rows[at[inside], 0] == batch[inside, 0]
    if not np.any(same_first):
        return np.insert(rows, at, batch, axis=0)
    same = same_first.copy()
    same[same_first] = rows[at[same_first], 1] == batch[same_first, 1]
    if np.any(same_first & ~same):
        return _distinct(np.concatenate((rows, batch)))
    return np.insert(rows, at[~same], batch[~same], axis=0)


def _distinct(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of an (n, 2) array, sorted by their first word (then the second)."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    same_hi = rows[1:, 0] == rows[:-1, 0]
    if np.any(same_hi & (rows[1:, 1] != rows[:-1, 1])):
        # Two values share the first 64 bits (rare): order by both words so duplicates meet.
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
        same_hi = rows[1:, 0] == rows[:-1, 0]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = ~(same_hi & (rows[1:, 1] == rows[:-1, 1]))
    return rows[keep]


def _key(digest: str) -> bytes:
    """The 16 bytes kept of a digest (any other string is hashed down to 16 bytes)."""
    if len(digest) >= 2 * _WIDTH:
        try:
            return bytes.fromhex(digest[: 2 * _WIDTH])
        except ValueError:
            pass
    return hashlib.blake2b(digest.encode("utf-8"), digest_size=_WIDTH).digest()


class DigestSet:
    """A set of hex digests (only their first 128 bits are kept); `len` is the distinct count."""

    __slots__ = ("_limit", "_pending", "_sorted")

    def __init__(self, digests: Iterable[str] = ()) -> None:
        self._sorted = _empty()
        self._pending = bytearray()
        self._limit = _WIDTH * _MIN_BATCH
        for digest in digests:
            self.add(digest)

    def add(self, digest: str) -> None:
        """Add one hex digest."""
        if len(digest) == 64:  # HMAC-SHA256 hex, the hot path
            self._pending += bytes.fromhex(digest[:32])
        else:
            self._pending += _key(digest)
        if len(self._pending) >= self._limit:
            self._fold()

    def add_all(self, digests: list[str]) -> None:
        """`add` for each of many HMAC-SHA256 hex digests (64 characters), in one conversion."""
        if any(len(d) != 64 for d in digests):
            for digest in digests:
                self.add(digest)
            return
        self._pending += bytes.fromhex("".join([d[:32] for d in digests]))
        if len(self._pending) >= self._limit:
            self._fold()

    def update(self, other: DigestSet) -> None:
        """Add every digest of `other`.

        Its digests join the pending batch, so merging one small set per page of a drive costs
        O(n log n) over the scan; sorting the whole set at each merge cost a tenth of a 2 GB
        raw pass (257 pages), all of it in the thread that collects the pages.
        """
        if other is self:
            return
        self._pending += other._pending
        self._pending += other._sorted.tobytes()
        if len(self._pending) >= self._limit:
            self._fold()

    def _fold(self) -> None:
        if self._pending:
            # A view of the pending bytes, not a copy; a fresh buffer takes new digests.
            batch = np.frombuffer(self._pending, dtype=np.uint64).reshape(-1, 2)
            self._pending = bytearray()
            self._sorted = _merged(self._sorted, _distinct(batch))
            # Batches grow with the set, so folding in costs O(n log n) over the whole scan.
            self._limit = _WIDTH * max(_MIN_BATCH, len(self._sorted) // 4)

    def __len__(self) -> int:
        self._fold()
        return len(self._sorted)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str):
            return False
        self._fold()
        hi, lo = np.frombuffer(_key(digest), dtype=np.uint64)
        first = self._sorted[:, 0]
        i, j = np.searchsorted(first, hi, "left"), np.searchsorted(first, hi, "right")
        return bool(np.any(self._sorted[i:j, 1] == lo))

    def __iter__(self) -> Iterator[bytes]:
        """The kept 128-bit prefixes (not the full digests)."""
        self._fold()
        return (row.tobytes() for row in self._sorted)

    def __or__(self, other: DigestSet) -> DigestSet:
        out = DigestSet()
        out.update(self)
        out.update(other)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DigestSet):
            return NotImplemented
        self._fold()
        other._fold()
        return np.array_equal(self._sorted, other._sorted)

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[bytes, bytes]:
        self._fold()
        return self._sorted.tobytes(), b""

    def __setstate__(self, state: tuple[bytes, bytes]) -> None:
        self._sorted = np.frombuffer(state[0], dtype=np.uint64).reshape(-1, 2).copy()
        self._pending = bytearray(state[1])
        self._limit = _WIDTH * max(_MIN_BATCH, len(self._sorted) // 4)

    @property
    def nbytes(self) -> int:
        """Memory held by the digests."""
        return self._sorted.nbytes + len(self._pending)

    @staticmethod
    def union(sets: Iterable[DigestSet]) -> int:
        """Distinct digests over all `sets`."""
        merged = DigestSet()
        for s in sets:
            merged.update(s)
        return len(merged)

    def __repr__(self) -> str:
        return f"DigestSet({len(self)} digests)"
