"""The raw fast path: personal data in raw bytes, without spaCy, at drive speed.

One compiled multi-pattern matcher (hyperscan, else google-re2, else Python `re`; see
`scanners.engines`) finds candidates of every kind in `scanners.patterns` in 8-bit text (ASCII,
UTF-8, Latin-1) and in UTF-16LE at once. Only candidates are decoded and validated, by the same
rules as the text path (`scanners.rules`). Context is a keyword window around the candidate, no
lemmas (`scanners.context`).

The ambiguous ten-digit rule: a bare `YYMMDDNNNC` run (no separator, no century) is reported as a
personnummer or samordningsnummer only when a personnummer keyword (personnummer, pnr, personnr,
persnr, samordningsnummer, födelsenummer, ssn, personal identity number, ...) is within 48
characters before or 24 after it; as an organisationsnummer only beside an org keyword; otherwise
it is a phone number when libphonenumber calls it a valid Swedish number (`0701234567`), or
nothing. `YYMMDD-NNNC`, `YYMMDD+NNNC` and the 12-digit forms with century 18-20 are structure
enough; they are vetoed only by a reference word (order, faktura, ...) with no personnummer word.
Consequence: a column of bare ten-digit personnummer whose header is further away than the window
is not found by the raw path (the file-aware path sees the header).

Offsets are byte offsets (`base_offset` + index in `data`), lengths are byte lengths, and a
finding never holds the value, only its keyed digest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from scanners import engines, records
from scanners.candidate import Plan
from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.hot import compiled as _hot
from scanners.patterns import KINDS, Compiled, compile_kinds
from scanners.rules import PRODUCES, RULE_BEFORE

log = logging.getLogger(__name__)

_GATE_SPAN = 320  # bytes around a gate match's position within which its value begins
# The longest value in bytes (an e-mail address of 64 + 253 characters in UTF-16LE), which a
# stream chunk must overlap.
MAX_MATCH = 1024
RAW_CATEGORIES = tuple(c for c in CATEGORIES if c != "person_name")
# Confidences as reported, by the rules' value: the rules give a few dozen distinct ones, and
# round() costs more than the rest of building a finding.
_ROUNDED: dict[float, float] = {}


def _offset(f: Finding) -> int:
    return f.offset


def _merged(positions: list[int], span: int) -> list[tuple[int, int]]:
    """The union of the windows [p - span, p + span) around `positions`, as sorted ranges."""
    out: list[tuple[int, int]] = []
    for p in sorted(positions):
        lo, hi = max(0, p - span), p + span
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class RawMatcher:
    """Finds personal data in raw bytes with one compiled multi-pattern matcher.

    Args:
        hasher: keys the digests of found values (one key per batch).
        categories: the categories to report; None means all of `RAW_CATEGORIES` (every
            category except person_name, which needs the text path).
        engine: "hyperscan", "re2" or "re"; None picks the fastest installed.
        min_confidence: findings below this confidence are dropped.

    Raises:
        ValueError: an unknown category, or an engine that is not installed.
    """

    def __init__(
        self,
        hasher: ValueHasher,
        categories: Iterable[str] | None = None,
        *,
        engine: str | None = None,
        min_confidence: float = 0.5,
    ) -> None:
        wanted = frozenset(RAW_CATEGORIES if categories is None else categories)
        unknown = wanted - set(RAW_CATEGORIES)
        if unknown:
            raise ValueError(f"RawMatcher cannot detect: {', '.join(sorted(unknown))}")
        self.categories = wanted
        self.min_confidence = min_confidence
        self._hasher = hasher
        kinds = tuple(k for k in KINDS if PRODUCES[k.name] & wanted)
        self._compiled: list[Compiled] = compile_kinds(kinds)
        self._engine = engines.build(self._compiled, engine) if kinds else None
        self._all_at_start = self._engine is not None and self._engine.name != "hyperscan"
        self._gated = frozenset(i for i, c in enumerate(self._compiled) if c.kind.gate)
        # Engine matches of `lead_in_pattern` kinds start this many bytes before the value.
        self._shift = [
            (2 if c.wide else 1) if c.kind.lead_in_pattern and not self._all_at_start else 0
            for c in self._compiled
        ]
        self._plans = [Plan(c) for c in self._compiled]
        self._confirms = tuple(p.confirm for p in self._plans)
        self._direct = tuple(p.direct for p in self._plans)
        # The loop over a page's candidates in C (`scanners._hot.confirm_all`), with the digest
        # from the hasher's HMAC midstates, where both are built.
        self._in_c = (
            (hasher._c_inner, hasher._c_outer)
            if _hot is not None and isinstance(hasher, ValueHasher) and hasher._c_inner
            else None
        )
        # The same as tables of bytes by compiled index, for `scanners._hot.order_starts`.
        self._shift_table = bytes(self._shift)
        self._gate_table = bytes(i in self._gated for i in range(len(self._compiled)))
        self._index_of = {c: records.INDEX_OF[c] for c in wanted}

    @property
    def engine(self) -> str:
        """The name of the engine in use."""
        return self._engine.name if self._engine else "none"

    def scan(self, data: bytes | memoryview | bytearray, base_offset: int = 0) -> list[Finding]:
        """Findings in `data`, sorted by offset; offsets are `base_offset` + byte index."""
        if self._engine is None or not len(data):
            return []
        # No copy of a page: hyperscan and `re` read any buffer, and only candidates' windows
        # are sliced out of it.
        buf = data if isinstance(data, bytes) else memoryview(data).cast("B")
        if self._in_c is not None:
            starts: list[tuple[int, int]] | bytes = self._start_keys(buf)
            found = _hot.confirm_all(  # type: ignore[union-attr]
                buf, base_offset, starts, self._confirms, self.categories,
                self.min_confidence, *self._in_c, Finding, _ROUNDED, self._direct,
            )  # fmt: skip
        else:
            found = self._confirm_all_py(buf, base_offset, self._starts(buf))
        found.sort(key=_offset)
        return found

    def _confirm_all_py(
        self, buf: bytes | memoryview, base_offset: int, starts: list[tuple[int, int]]
    ) -> list[Finding]:
        """`scanners._hot.confirm_all` in Python: each candidate not inside the value before."""
        found: list[Finding] = []
        covered = -1
        confirms, wanted, floor = self._confirms, self.categories, self.min_confidence
        digest, rounded = self._hasher.digest, _ROUNDED
        for start, index in starts:
            if start < covered:
                continue
            hit = confirms[index](buf, start, base_offset)
            if hit is None:
                continue
            category, confidence, normalized, begin, covered = hit
            if confidence >= floor and category in wanted:
                shown = rounded.get(confidence)
                if shown is None:
                    shown = rounded[confidence] = round(confidence, 3)
                found.append(
                    Finding(
                        category, base_offset + begin, covered - begin, shown, digest(normalized)
                    )
                )
        return found

    def _starts(self, buf: bytes | memoryview) -> list[tuple[int, int]]:
        """Sorted distinct (start, compiled index) pairs where a value may begin.

        `_starts_py` in C (`scanners._hot.order_starts`) where built, for hyperscan.
        """
        if _hot is None or self._all_at_start:
            return self._starts_py(buf)
        return self._ordered(buf, self._engine.candidates(buf))  # type: ignore[union-attr,return-value]

    def _start_keys(self, buf: bytes | memoryview) -> list[tuple[int, int]] | bytes:
        """`_starts` as packed keys (start << 8 | compiled index) where the engine gives them.

        A page's candidates then never become tuples (a million on 32 MB of documents);
        `scanners._hot.confirm_all` reads the keys.
        """
        keys = getattr(self._engine, "candidate_keys", None)
        if _hot is None or self._all_at_start or keys is None:
            return self._starts(buf)
        return self._ordered(buf, keys(buf))

    def _ordered(
        self, buf: bytes | memoryview, candidates: list[tuple[int, int]] | bytes
    ) -> list[tuple[int, int]] | bytes:
        """The engine's candidates ordered into starts, in their form (pairs or packed keys).

        Moved past their lead-in byte, with the values near gate words merged in.
        """
        assert _hot is not None
        starts, at_zero, positions = _hot.order_starts(
            candidates, self._shift_table, self._gate_table
        )
        more = [self._moved(buf, s, i) for s, i in at_zero]
        if positions:
            more += self._gated_values(buf, positions)
        return _hot.merge_starts(starts, more) if more else starts  # type: ignore[no-any-return]

    def _moved(self, buf: bytes | memoryview, s: int, i: int) -> tuple[int, int]:
        """Where the value of an engine match at `s` of kind `i` starts.

        `shift[i]` bytes on (the pattern holds the byte before the value), except at offset 0,
        where the pattern's `^` alternative matched the value itself.
        """
        shift = self._shift[i]
        if shift and (s or self._compiled[i].core.match(buf, 0) is None):
            return s + shift, i
        return s, i

    def _gated_values(
        self, buf: bytes | memoryview, positions: dict[int, list[int]]
    ) -> list[tuple[int, int]]:
        """Values of gated kinds around their gate matches' `positions`, per kind.

        A gate match spans a keyword and a value: look for values around its position, once
        per stretch where the windows of one kind's gate matches overlap.
        """
        windows = [(lo, hi, i) for i, p in positions.items() for lo, hi in _merged(p, _GATE_SPAN)]
        return self._engine.values(buf, windows)  # type: ignore[union-attr]

    def _starts_py(self, buf: bytes | memoryview) -> list[tuple[int, int]]:
        """`_starts` in Python: every engine."""
        pairs = self._engine.candidates(buf)  # type: ignore[union-attr]
        if self._all_at_start:
            # re/re2 report only the first alternative that matches at a start: try every kind
            # there, so the three engines find the same candidates.
            n = len(self._compiled)
            pairs = [(s, i) for s in {s for s, _ in pairs} for i in range(n)]
        if any(self._shift):
            pairs = [self._moved(buf, s, i) for s, i in pairs]
        if not self._gated:
            return sorted(set(pairs))
        gated, positions, plain = self._gated, {}, []
        for s, i in set(pairs):
            if i in gated:
                positions.setdefault(i, []).append(s)
            else:
                plain.append((s, i))
        plain.extend(self._gated_values(buf, positions))
        return sorted(set(plain))

    def scan_stream(
        self, stream: BinaryIO, *, chunk_size: int = 8 << 20, base_offset: int = 0
    ) -> Iterator[Finding]:
        """Findings in a readable binary stream, chunk by chunk: memory stays O(chunk_size).

        Chunks overlap by `MAX_MATCH` bytes plus the context window, so a value that crosses a
        chunk edge is found once, with its context.
        """
        for buf, pos, emitted, limit in _chunks(stream, chunk_size, base_offset):
            for f in self.scan(buf, pos):
                if emitted <= f.offset < limit:
                    yield f

    def scan_records(self, data: bytes | memoryview | bytearray, base_offset: int = 0) -> Any:
        """`scan` as records (`scanners.records`) in offset order: no Python object a value."""
        if self._engine is None or not len(data):
            return records.empty()
        if self._in_c is None:
            return records.of_findings(self.scan(data, base_offset))
        buf = data if isinstance(data, bytes) else memoryview(data).cast("B")
        raw = _hot.confirm_records(  # type: ignore[union-attr]
            buf, base_offset, self._start_keys(buf), self._confirms, self._index_of,
            self.min_confidence, *self._in_c, self._direct,
        )  # fmt: skip
        return records.by_offset(records.from_bytes(raw))

    def scan_stream_records(
        self, stream: BinaryIO, *, chunk_size: int = 8 << 20, base_offset: int = 0
    ) -> Iterator[Any]:
        """`scan_stream` as records, an array a chunk."""
        for buf, pos, emitted, limit in _chunks(stream, chunk_size, base_offset):
            found = self.scan_records(buf, pos)
            offsets = found["offset"]
            yield found[(offsets >= emitted) & (offsets < limit)]


def _chunks(
    stream: BinaryIO, chunk_size: int, base_offset: int
) -> Iterator[tuple[bytes, int, int, int]]:
    """A stream's bytes as overlapping chunks: (chunk, its offset, [emitted, limit)).

    A value is reported by the chunk whose [emitted, limit) holds its start: chunks overlap by
    `MAX_MATCH` bytes plus the context window, so one that crosses a chunk edge is found once,
    with its context.
    """
    keep = MAX_MATCH + RULE_BEFORE * 2
    chunk_size = max(chunk_size, 4 * keep)
    buf = b""
    pos = base_offset  # offset of buf[0]
    emitted = base_offset  # values before this offset were already reported
    while True:
        block = stream.read(chunk_size)
        eof = not block
        buf = buf + block if buf else block
        if not buf:
            return
        limit = pos + len(buf) if eof else pos + len(buf) - MAX_MATCH
        yield buf, pos, emitted, limit
        if eof:
            return
        emitted = limit
        cut = max(0, len(buf) - keep)
        buf, pos = buf[cut:], pos + cut
