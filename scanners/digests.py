"""Distinct keyed digests in bounded memory: 16 bytes a value, not a Python string in a set.

A drive of mail logs holds millions of distinct addresses; a `set` of 64-character hex strings
costs about 150 bytes a value (1.5 GB for 10 million). `DigestSet` keeps the first 128 bits of
each HMAC-SHA256 digest (two 64-bit words) in numpy arrays of distinct rows sorted by the
first word, sorting new digests by batches, so memory is 16 bytes a value plus a batch buffer.
Two different values share a 128-bit prefix with a probability of about n² / 2^129 (below
10^-24 for 10^7 values): the distinct count is exact in practice, never an estimate as a
HyperLogLog's is.

Memory is bounded whatever the drive holds: when a set's rows pass `SPILL_ROWS` (8 MB),
they are written to an unnamed temporary file (in `TMPDIR`, else /var/tmp: on disk where /tmp is
a tmpfs; unlinked at once, so nothing is left after a crash; it holds only keyed digest prefixes)
and memory starts over. Each such run keeps the row
index where each of 256 buckets (the first byte of the first word) begins, so the distinct count,
a membership test or a union reads one bucket of every run at a time: about 1/256 of the rows.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from scanners import hot
from scanners.arrays import np

_WIDTH = 16  # bytes kept of each digest, as two unsigned 64-bit words
_MIN_BATCH = 1 << 16
SPILL_ROWS = 1 << 19  # sorted rows a set keeps in memory (8 MB) before writing them to a run
_BUCKETS = 256  # runs are read a bucket at a time: by the first byte of the first word


def _empty() -> np.ndarray:
    return np.empty((0, 2), dtype=np.uint64)


# A row as one 16-byte item: numpy moves whole rows of a 1-D view at about 1 ns each, where
# indexing the rows of the (n, 2) array took 45 ns a row (and np.insert 3 to 5 times as long).
_ROW = np.dtype((np.void, _WIDTH))


def _as_items(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows).view(_ROW).ravel()


def _distinct(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of an (n, 2) array, sorted by their first word (then the second).

    In C where built (`scanners._hot.distinct_rows`: counting passes on the top bits, then
    buckets of a row or two; 24-25 ns a row where this took 73-136, 40,000 to 2 million rows,
    on the AMD EPYC stations); else `_distinct_np`, which gives the same rows.
    """
    if hot.compiled is not None:
        kept = hot.compiled.distinct_rows(np.ascontiguousarray(rows, dtype=np.uint64))
        return np.frombuffer(kept, dtype=np.uint64).reshape(-1, 2)
    return _distinct_np(rows)


def _distinct_np(rows: np.ndarray) -> np.ndarray:
    """`_distinct` in numpy.

    numpy's default sort, not a stable one: equal rows meet either way, and rows that share
    only their first word are sorted by both below. On 64-bit keys the stable sort took 68 ns
    a row, the default (vectorized where the CPU has AVX-512) 14 ns. Rows are moved as 16-byte
    items (`_ROW`): 78 -> 24 ns a row in all.
    """
    rows = np.take(_as_items(rows), np.argsort(rows[:, 0])).view(np.uint64).reshape(-1, 2)
    same_hi = rows[1:, 0] == rows[:-1, 0]
    if np.any(same_hi & (rows[1:, 1] != rows[:-1, 1])):
        # Two values share the first 64 bits (rare): order by both words so duplicates meet.
        order = np.lexsort((rows[:, 1], rows[:, 0]))
        rows = np.take(_as_items(rows), order).view(np.uint64).reshape(-1, 2)
        same_hi = rows[1:, 0] == rows[:-1, 0]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = ~(same_hi & (rows[1:, 1] == rows[:-1, 1]))
    return np.compress(keep, _as_items(rows)).view(np.uint64).reshape(-1, 2)


def key_of(digest: str) -> bytes:
    """The 16 bytes kept of a digest (any other string is hashed down to 16 bytes)."""
    if len(digest) >= 2 * _WIDTH:
        try:
            return bytes.fromhex(digest[: 2 * _WIDTH])
        except ValueError:
            pass
    return hashlib.blake2b(digest.encode("utf-8"), digest_size=_WIDTH).digest()


def _hex_heads(digests: list[str]) -> bytes | None:
    """The 16 bytes kept of each of many 64-character hex digests, or None if one is not.

    In C where built (`scanners._hot.hex_heads`, 19 ns a digest); else all 32 bytes at once,
    then the 16 kept of each: C loops, not a slice and a join a digest (36 ns; both measured on
    25,000 fresh digests).
    """
    if hot.compiled is not None and isinstance(digests, list):
        return hot.compiled.hex_heads(digests)  # type: ignore[no-any-return]
    return _hex_heads_py(list(digests))


def _hex_heads_py(digests: list[str]) -> bytes | None:
    """`_hex_heads` in Python."""
    if not digests:
        return b""
    if set(map(len, digests)) != {64}:
        return None
    try:
        whole = np.frombuffer(bytes.fromhex("".join(digests)), dtype=np.uint8)
    except ValueError:
        return None
    if len(whole) != 32 * len(digests):  # fromhex skips spaces: not all were hex
        return None
    return whole.reshape(-1, 32)[:, :_WIDTH].tobytes()


def spill_dir() -> str | None:
    """Where runs go: `TMPDIR` when set, else /var/tmp (on disk; /tmp may be a tmpfs in RAM)."""
    if os.environ.get("TMPDIR"):
        return None  # tempfile's own choice, which reads TMPDIR
    return "/var/tmp" if os.access("/var/tmp", os.W_OK | os.X_OK) else None


def _bucket_starts(rows: np.ndarray) -> np.ndarray:
    """Where each bucket (first byte of the first word) begins in sorted rows, and the end."""
    bounds = np.arange(_BUCKETS + 1, dtype=np.uint64) << np.uint64(56)
    starts = np.searchsorted(rows[:, 0], bounds[:-1], "left")
    return np.append(starts, len(rows)).astype(np.int64)


class _Run:
    """Sorted distinct rows written to an unnamed temporary file, read a bucket at a time."""

    __slots__ = ("_file", "starts")

    def __init__(self, rows: np.ndarray) -> None:
        # Open for the run's life (it is the only name of the data), closed with it.
        self._file: BinaryIO = tempfile.TemporaryFile(prefix="digests-", dir=spill_dir())  # noqa: SIM115
        self._file.write(memoryview(np.ascontiguousarray(rows)))  # no copy of the rows
        self._file.flush()
        self.starts = _bucket_starts(rows)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def bucket(self, b: int) -> np.ndarray:
        lo, hi = int(self.starts[b]), int(self.starts[b + 1])
        if hi == lo:
            return _empty()
        raw = os.pread(self._file.fileno(), (hi - lo) * _WIDTH, lo * _WIDTH)
        return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 2)


def _buckets(parts: list[np.ndarray], runs: list[_Run]) -> Iterator[np.ndarray]:
    """The distinct sorted rows of all `parts` (sorted in memory) and `runs`, in 256 buckets."""
    starts = [_bucket_starts(p) for p in parts]
    for b in range(_BUCKETS):
        pieces = [p[int(s[b]) : int(s[b + 1])] for p, s in zip(parts, starts, strict=True)]
        pieces += [run.bucket(b) for run in runs]
        pieces = [x for x in pieces if len(x)]
        if not pieces:
            yield _empty()
        elif len(pieces) == 1:
            yield pieces[0]
        else:
            yield _distinct(np.concatenate(pieces))


class DigestSet:
    """A set of hex digests (only their first 128 bits are kept); `len` is the distinct count.

    In memory the rows are sorted distinct parts: a set merged in (a page's, sent by a worker)
    joins as a part, unsorted digests as a batch sorted once. Parts are sorted together only
    when they hold `spill_rows` rows (then written to a run when most of them are distinct) or
    when there are `MAX_PARTS`: folding each batch into one sorted array copied that array
    again at every fold (0.86 of the 1.44 s the raw pass's collecting thread spent on the
    1.02 GB mixed image).

    Args:
        digests: digests to start with.
        spill_rows: rows kept in memory before they are written to a run on disk.
    """

    __slots__ = ("_held", "_limit", "_parts", "_pending", "_runs", "_spill_rows")

    MAX_PARTS = 64

    def __init__(self, digests: Iterable[str] = (), *, spill_rows: int = SPILL_ROWS) -> None:
        self._parts: list[np.ndarray] = []  # sorted distinct rows each; may share rows
        self._held = 0  # rows in the parts
        self._pending = bytearray()
        self._runs: list[_Run] = []
        self._spill_rows = spill_rows
        self._limit = _WIDTH * min(_MIN_BATCH, max(1, spill_rows // 4))
        for digest in digests:
            self.add(digest)

    def add(self, digest: str) -> None:
        """Add one hex digest."""
        if len(digest) == 64:  # HMAC-SHA256 hex, the hot path
            self._pending += bytes.fromhex(digest[:32])
        else:
            self._pending += key_of(digest)
        if len(self._pending) >= self._limit:
            self._fold()

    def add_all(self, digests: list[str]) -> None:
        """`add` for each of many HMAC-SHA256 hex digests (64 characters), in one conversion."""
        whole = _hex_heads(digests)
        if whole is None:
            for digest in digests:
                self.add(digest)
            return
        self._pending += whole
        if len(self._pending) >= self._limit:
            self._fold()

    def add_heads(self, heads: bytes | memoryview) -> None:
        """Add digests already cut to their kept 16 bytes each (`scanners.records`' heads)."""
        if len(heads) % _WIDTH:
            raise ValueError(f"heads are {_WIDTH} bytes each")
        self._pending += heads
        if len(self._pending) >= self._limit:
            self._fold()

    def update(self, other: DigestSet) -> None:
        """Add every digest of `other`.

        Its sorted parts join these as they are (arrays are never changed in place, so both
        sets may hold them), its pending digests join the pending batch, its runs the runs.
        """
        if other is self:
            return
        self._pending += other._pending
        for part in other._parts:
            self._add_part(part)
        self._runs += other._runs  # runs are never written again: both sets can read them
        if len(self._pending) >= self._limit:
            self._fold()

    def _add_part(self, part: np.ndarray) -> None:
        if len(part):
            self._parts.append(part)
            self._held += len(part)
            if self._held >= self._spill_rows or len(self._parts) > self.MAX_PARTS:
                self._compact()

    def _fold(self) -> None:
        """The pending digests into a sorted part."""
        if self._pending:
            # A view of the pending bytes, not a copy; a fresh buffer takes new digests.
            batch = np.frombuffer(self._pending, dtype=np.uint64).reshape(-1, 2)
            self._pending = bytearray()
            self._add_part(_distinct(batch))
        # Batches grow with the set (up to a quarter of what memory keeps), so sorting them
        # costs O(n log n) over the whole scan.
        rows = max(_MIN_BATCH, self._held // 4)
        self._limit = _WIDTH * max(1, min(rows, self._spill_rows // 4))

    def _compact(self, *, spill: bool = True) -> None:
        """The parts as one sorted part; with `spill`, a run once it holds half `spill_rows`."""
        if len(self._parts) > 1:
            rows = _distinct(np.concatenate(self._parts))
        else:
            rows = self._parts[0] if self._parts else _empty()
        if spill and self._held >= self._spill_rows and len(rows) * 2 >= self._spill_rows:
            self._runs.append(_Run(rows))
            self._parts, self._held = [], 0
        else:  # repeats mostly (or asked for one part): memory keeps them
            self._parts, self._held = ([rows] if len(rows) else []), len(rows)

    def _one_part(self) -> np.ndarray:
        """The rows in memory as one sorted distinct array (call `_fold` first)."""
        if len(self._parts) > 1:
            self._compact(spill=False)
        return self._parts[0] if self._parts else _empty()

    def __len__(self) -> int:
        self._fold()
        if not self._runs:
            return len(self._one_part())
        return sum(len(rows) for rows in _buckets(self._parts, self._runs))

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str):
            return False
        self._fold()
        hi, lo = np.frombuffer(key_of(digest), dtype=np.uint64)
        bucket = int(hi >> np.uint64(56))
        for rows in (*self._parts, *(run.bucket(bucket) for run in self._runs)):
            first = rows[:, 0]
            i, j = np.searchsorted(first, hi, "left"), np.searchsorted(first, hi, "right")
            if np.any(rows[i:j, 1] == lo):
                return True
        return False

    def _rows(self) -> Iterator[np.ndarray]:
        """The distinct rows in order, a bucket at a time when some are on disk."""
        self._fold()
        if not self._runs:
            yield self._one_part()
        else:
            yield from _buckets(self._parts, self._runs)

    def __iter__(self) -> Iterator[bytes]:
        """The kept 128-bit prefixes (not the full digests)."""
        return (row.tobytes() for rows in self._rows() for row in rows)

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
        if not self._runs and not other._runs:
            return np.array_equal(self._one_part(), other._one_part())
        mine = _buckets(self._parts, self._runs)
        theirs = _buckets(other._parts, other._runs)
        return all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> tuple[bytes, bytes, int]:
        """Every row goes along (a set sent between processes is a page's, never spilled)."""
        rows = b"".join(rows.tobytes() for rows in self._rows())
        return rows, b"", self._spill_rows

    def __setstate__(self, state: tuple[bytes, ...]) -> None:
        rows = np.frombuffer(state[0], dtype=np.uint64).reshape(-1, 2).copy()
        self._parts = [rows] if len(rows) else []
        self._held = len(rows)
        self._pending = bytearray(state[1])
        self._runs = []
        self._spill_rows = int(state[2]) if len(state) > 2 else SPILL_ROWS  # type: ignore[arg-type]
        rows_per_batch = max(_MIN_BATCH, self._held // 4)
        self._limit = _WIDTH * max(1, min(rows_per_batch, self._spill_rows // 4))

    @property
    def nbytes(self) -> int:
        """Memory held by the digests (the runs on disk not counted)."""
        return sum(part.nbytes for part in self._parts) + len(self._pending)

    @property
    def spilled_rows(self) -> int:
        """Rows written to runs on disk (repeats across runs included)."""
        return sum(len(run) for run in self._runs)

    @staticmethod
    def union(sets: Iterable[DigestSet]) -> int:
        """Distinct digests over all `sets`, counted a bucket at a time.

        No set is built: merging both passes' sets into a new one sorted and wrote every row
        again (0.38 s at the end of a scan of the 1.02 GB mixed image, with every core but
        one idle).
        """
        parts: list[np.ndarray] = []
        runs: list[_Run] = []
        for s in sets:
            s._fold()
            parts += s._parts
            runs += s._runs
        if not runs and len(parts) <= 1:
            return len(parts[0]) if parts else 0
        return sum(len(rows) for rows in _buckets(parts, runs))

    def __repr__(self) -> str:
        return f"DigestSet({len(self)} digests)"
