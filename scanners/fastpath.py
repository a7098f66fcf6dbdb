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
from typing import BinaryIO

from scanners import engines
from scanners.findings import CATEGORIES, Finding, ValueHasher
from scanners.patterns import KINDS, Compiled, compile_kinds
from scanners.rules import PRODUCES, RULES, Decision

log = logging.getLogger(__name__)

# Bytes of context decoded around a candidate (UTF-16 doubles them), and the longest value in
# bytes (an e-mail address of 64 + 253 characters in UTF-16LE), which a stream chunk must overlap.
_BEFORE, _AFTER = 96, 64
MAX_MATCH = 1024
RAW_CATEGORIES = tuple(c for c in CATEGORIES if c != "person_name")


def _decode(raw: bytes, wide: bool) -> tuple[str, str]:
    """The text of `raw` and the codec that gives back its exact byte length.

    8-bit text is UTF-8 when it decodes as such (a sequence cut at the end of the window is
    dropped), else Latin-1.
    """
    if wide:
        return raw.decode("utf-16-le", "surrogatepass"), "utf-16-le"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data":
            try:
                return raw[: e.start].decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        return raw.decode("latin-1"), "latin-1"


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
        self._rank = {id(c): i for i, c in enumerate(self._compiled)}
        self._engine = engines.build(self._compiled, engine) if kinds else None
        self._all_at_start = self._engine is not None and self._engine.name != "hyperscan"

    @property
    def engine(self) -> str:
        """The name of the engine in use."""
        return self._engine.name if self._engine else "none"

    def scan(self, data: bytes | memoryview | bytearray, base_offset: int = 0) -> list[Finding]:
        """Findings in `data`, sorted by offset; offsets are `base_offset` + byte index."""
        if self._engine is None or not len(data):
            return []
        buf = data if isinstance(data, bytes) else bytes(data)
        pairs = self._engine.candidates(buf)
        if self._all_at_start:
            # re/re2 report only the first alternative that matches at a start: try every kind
            # there, so the three engines find the same candidates.
            n = len(self._compiled)
            pairs = [(s, i) for s in {s for s, _ in pairs} for i in range(n)]
        found: list[Finding] = []
        covered = -1
        for start, index in sorted(set(pairs)):
            if start < covered:
                continue
            hit = self._confirm(buf, start, self._compiled[index])
            if hit is None:
                continue
            decision, begin, end = hit
            covered = end
            if decision.confidence >= self.min_confidence and decision.category in self.categories:
                found.append(
                    Finding(
                        decision.category,
                        base_offset + begin,
                        end - begin,
                        round(decision.confidence, 3),
                        self._hasher.digest(decision.normalized),
                    )
                )
        found.sort(key=lambda f: f.offset)
        return found

    def _confirm(self, buf: bytes, start: int, c: Compiled) -> tuple[Decision, int, int] | None:
        m = c.core.match(buf, start)
        if m is None:
            return None
        wide = c.wide
        unit = 2 if wide else 1
        if c.lead is not None and start >= unit and c.lead.match(buf, start - unit):
            return None
        end = m.end()
        rule = RULES[c.kind.name]
        if not wide and c.kind.name != "postal":
            # ASCII values: decode as Latin-1, one character per byte, so spans need no mapping
            # (context keywords are also listed in their UTF-8-read-as-Latin-1 form).
            d = rule(
                buf[start:end].decode("latin-1"),
                buf[max(0, start - _BEFORE) : start].decode("latin-1"),
                buf[end : end + _AFTER].decode("latin-1"),
            )
            return None if d is None else (d, start + d.start, start + d.stop)
        lo = max(start - _BEFORE * unit, start % unit if wide else 0)
        before_raw = buf[lo:start]
        if not wide:  # do not start decoding inside a UTF-8 sequence
            skip = 0
            while skip < len(before_raw) and 0x80 <= before_raw[skip] <= 0xBF and skip < 3:
                skip += 1
            before_raw = before_raw[skip:]
        core, codec = _decode(buf[start:end], wide)
        before, before_codec = _decode(before_raw, wide)
        after_raw = buf[end : end + _AFTER * unit]
        after, after_codec = _decode(after_raw[: len(after_raw) & ~1] if wide else after_raw, wide)
        decision = rule(core, before, after)
        if decision is None:
            return None
        spans = (core, codec), (before, before_codec), (after, after_codec)
        return decision, *self._byte_span(decision, start, *spans)

    @staticmethod
    def _byte_span(
        d: Decision,
        start: int,
        core: tuple[str, str],
        before: tuple[str, str],
        after: tuple[str, str],
    ) -> tuple[int, int]:
        """Byte offsets of a decision's character span; each window has its own codec."""

        def size(text: str, enc: str) -> int:
            return len(text.encode(enc, "surrogatepass" if enc == "utf-16-le" else "replace"))

        (core_text, core_enc), (before_text, before_enc), (after_text, after_enc) = (
            core,
            before,
            after,
        )
        if d.start < 0:
            begin = start - size(before_text[len(before_text) + d.start :], before_enc)
        else:
            begin = start + size(core_text[: d.start], core_enc)
        if d.stop <= len(core_text):
            end = start + size(core_text[: d.stop], core_enc)
        else:
            tail = after_text[: d.stop - len(core_text)]
            end = start + size(core_text, core_enc) + size(tail, after_enc)
        return begin, end

    def scan_stream(
        self, stream: BinaryIO, *, chunk_size: int = 8 << 20, base_offset: int = 0
    ) -> Iterator[Finding]:
        """Findings in a readable binary stream, chunk by chunk: memory stays O(chunk_size).

        Chunks overlap by `MAX_MATCH` bytes plus the context window, so a value that crosses a
        chunk edge is found once, with its context.
        """
        keep = MAX_MATCH + _BEFORE * 2
        chunk_size = max(chunk_size, 4 * keep)
        buf = b""
        pos = base_offset  # offset of buf[0]
        emitted = base_offset  # findings before this offset were already yielded
        while True:
            block = stream.read(chunk_size)
            eof = not block
            buf = buf + block if buf else block
            if not buf:
                return
            limit = pos + len(buf) if eof else pos + len(buf) - MAX_MATCH
            for f in self.scan(buf, pos):
                if emitted <= f.offset < limit:
                    yield f
            if eof:
                return
            emitted = limit
            cut = max(0, len(buf) - keep)
            buf, pos = buf[cut:], pos + cut
