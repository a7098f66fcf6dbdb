"""Find compressed streams in raw bytes and inflate them with hard limits (zip-bomb safe).

Deleted documents and unallocated space hold personal data inside compressed containers: zip
entries (docx, xlsx, odt, plain zips), gzip members, and zlib streams (PDF FlateDecode, PNG). The
raw pass finds their headers by signature, inflates each one up to `max_output` bytes, and scans
the output; nested streams are found the same way in that output, down to `max_depth`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scanners import deflate, pdffilters
from scanners.hot import compiled as _hot
from scanners.pdffilters import FILTER_NAMES

# zip local file header, gzip member header (deflate), zlib header with a 32 KiB window and any
# of the four compression levels (CMF 0x78; FLG makes CMF*256+FLG % 31 == 0). Then the PDF
# filter names that hide a zlib header (ASCII85, ASCIIHex) or replace deflate.
_SIGNATURES = (
    b"PK\x03\x04",
    b"\x1f\x8b\x08",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x78\x01",
    b"\x78\x5e",
    *FILTER_NAMES,
)
_ZIP_HEADER = struct.Struct("<4sHHHHHIIIHH")
# Input is read in growing chunks: most signature hits in random data fail within a few bytes.
_FIRST_CHUNK = 4 << 10
_MAX_CHUNK = 1 << 20

# Reads compressed input: (offset, length) -> bytes, where offset counts from the stream's source.
Reader = Callable[[int, int], bytes]


@dataclass(frozen=True, slots=True)
class Stream:
    """A compressed stream found at `offset` of its source."""

    offset: int  # where the header starts
    kind: str  # "zip" | "gzip" | "zlib" | "pdf"
    data_offset: int  # where the compressed bytes (zip) or the header (gzip, zlib) start
    wbits: int
    filters: tuple[str, ...] = ()  # "pdf": the stream's filter chain, in decoding order


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on inflation: per stream, per page, and how deep to recurse."""

    max_output: int = 16 << 20  # bytes of output held per stream (nested streams searched)
    max_input: int = 64 << 20  # compressed bytes read for those
    # A stream read from the target goes on past `max_output`, matched as it is inflated and
    # not held, while its output stays within `max_ratio` times the compressed bytes it used,
    # up to `max_tail_input` bytes in. Text compresses 3-10 times (the mail logs of
    # `bench/mixed_bench.py` 3.84), a zip bomb about a thousand.
    max_ratio: int = 32
    max_tail_input: int = 1 << 30
    # Whatever its ratio, a stream read from the target is read to this much output: a full
    # scan sets it to what the file pass would unpack of a gzip file (`scan.scan`), so a log
    # the raw pass reads in its place (one whose first member repeats one line, hundreds of
    # times smaller packed) loses nothing to the ratio. Streamed, not held: a bomb costs the
    # inflating, not memory.
    min_tail_output: int = 0
    # Streams inside streams: a zip in a zip five deep is an ordinary backup; the budget, not
    # the depth, bounds the work. Deeper streams are reported as not scannable.
    max_depth: int = 8
    budget: int = 64 << 20  # output bytes per page of the target, over all streams


def cut_reason(limits: Limits) -> str:
    """How the report names a stream a limit cut (`Inflation.cut`)."""
    return (
        f"compressed stream past the inflate limits ({limits.max_output} bytes out, then at "
        f"most {limits.max_ratio} times the bytes in, {limits.max_tail_input} in all); "
        "the rest not read"
    )


def find_streams(
    data: bytes | memoryview, start: int = 0, end: int | None = None
) -> Iterator[Stream]:
    """Yield the compressed streams whose header starts in `data[start:end]`."""
    end = len(data) if end is None else end
    pdf_seen = -1
    for pos in _signature_hits(data, start, end):
        sig = data[pos : pos + 2]
        if sig == b"/A" or sig == b"/L" or sig == b"/R":
            found = pdffilters.stream_at(data, pos)
            if found is not None and found[0] != pdf_seen:  # a chain names several filters
                pdf_seen = found[0]
                yield Stream(pos, "pdf", found[0], 0, found[1])
        elif sig == b"PK":
            stream = _zip_entry(data, pos)
            if stream is not None:
                yield stream
        elif sig == b"\x1f\x8b":
            if pos + 3 < len(data) and data[pos + 3] < 0x20:  # no reserved flag bits
                yield Stream(pos, "gzip", pos, 31)
        elif (data[pos] * 256 + data[pos + 1]) % 31 == 0 and _deflate_may_start(data, pos + 2):
            yield Stream(pos, "zlib", pos, 15)


def _deflate_may_start(data: bytes | memoryview, at: int) -> bool:
    """False when the deflate data at `at` fails in its first block header (RFC 1951 3.2.3).

    Random bytes (media files, encrypted or wiped space) hold a zlib header about 60 times a
    MB; each costs an inflater to reject. A block type of 3 is invalid, and a stored block's
    length must be the complement of the next two bytes: zlib stops at once on either with no
    output, so these streams are not tried (half of the chance headers).
    """
    if at >= len(data):
        return True
    kind = (data[at] >> 1) & 3
    if kind == 3:
        return False
    if kind == 0 and at + 4 < len(data):
        length = data[at + 1] | data[at + 2] << 8
        return length ^ (data[at + 3] | data[at + 4] << 8) == 0xFFFF
    return True


def _signature_hits(data: bytes | memoryview, start: int, end: int) -> list[int]:
    """Sorted offsets in data[start:end] where a signature starts and ends by `end`.

    bytes.find per signature reads a page once for each of them; the compiled `starts` reads
    it once, comparing every signature's first two bytes at a time.
    """
    if _hot is not None:
        return _hot.starts(data, start, end, _SIGNATURES)
    return _signature_hits_py(data, start, end)


def _signature_hits_py(data: bytes | memoryview, start: int, end: int) -> list[int]:
    """`_signature_hits` by bytes.find."""
    raw = data if isinstance(data, bytes) else bytes(data)
    hits = []
    for signature in _SIGNATURES:
        pos = raw.find(signature, start, end)
        while pos != -1:
            hits.append(pos)
            pos = raw.find(signature, pos + 1, end)
    return sorted(hits)


def _zip_entry(data: bytes | memoryview, pos: int) -> Stream | None:
    if pos + _ZIP_HEADER.size > len(data):
        return None
    fields = _ZIP_HEADER.unpack_from(data, pos)
    method, name_len, extra_len = fields[3], fields[9], fields[10]
    # Stored entries need no inflating: the raw pass reads their bytes where they lie.
    if method != 8:
        return None
    return Stream(pos, "zip", pos + _ZIP_HEADER.size + name_len + extra_len, -15)


def inflate(
    read: Reader, stream: Stream, limits: Limits, max_output: int | None = None
) -> tuple[bytes, bool]:
    """Inflate `stream`, reading its input through `read`, to at most `max_output` bytes.

    Corrupt or truncated input ends the stream quietly: the output so far is still scanned, as
    deleted files are often partly overwritten.

    Returns:
        The output, and whether a limit cut it before the stream's end (the caller reports it).
    """
    cap = limits.max_output if max_output is None else min(max_output, limits.max_output)
    inflation = Inflation(read, stream, limits, cap)
    while inflation.read(_MAX_CHUNK):
        pass
    return bytes(inflation.held), inflation.cut


class Inflation:
    """One stream's output, read a piece at a time (`read`, as a binary file reads).

    The first `hold` bytes are kept (`held`): nested streams are searched in them. With `tail`
    a zip, gzip or zlib stream goes on past them, its output read and not kept, while it stays
    within `limits.max_ratio` times the compressed bytes used, up to `limits.max_tail_input`
    bytes in: a mail log is read to its end in a few megabytes of memory, a zip bomb (a
    thousand times its input) stops where it did before. `on_tail` sees each piece past the
    held part (the raw pass looks there for streams it will not inflate, to report them).
    """

    def __init__(
        self,
        read: Reader,
        stream: Stream,
        limits: Limits,
        hold: int,
        *,
        tail: bool = False,
        on_tail: Callable[[bytes], None] | None = None,
    ) -> None:
        self._read = read
        self._stream = stream
        self._limits = limits
        self._hold = hold
        self._tail = tail and stream.kind != "pdf"
        self._on_tail = on_tail  # sees each piece of output past `hold`
        # Grown in place (a join of the pieces held them twice at its end: 32 MiB a worker).
        self._held = bytearray()
        self._rest = b""  # what a short `read` left of a piece
        self._pieces: Iterator[bytes] = self._output()
        self.produced = 0  # output bytes so far, held or not
        self.cut = False  # a limit ended the stream before its end

    @property
    def held(self) -> bytearray:
        """The first `hold` bytes of output (fewer if the stream ended before)."""
        return self._held

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of output (all the rest if negative); b"" once it has ended.

        As a raw file reads: the next piece as the inflater gave it, no longer than `size`
        (a buffer that gathered exactly `size` bytes copied every byte twice more).
        """
        if size < 0:
            return self._rest + b"".join(self._pieces)
        piece, self._rest = self._rest or next(self._pieces, b""), b""
        if len(piece) > size:
            piece, self._rest = piece[:size], piece[size:]
        return piece

    def _output(self) -> Iterator[bytes]:
        if self._stream.kind == "pdf":
            data, self.cut = _pdf_stream(self._read, self._stream, self._limits, self._hold)
            self._held += data
            self.produced = len(data)
            if data:
                yield data
            return
        limits, start = self._limits, self._stream.data_offset
        inflater = deflate.decompressobj(self._stream.wbits)
        consumed = 0
        size = _FIRST_CHUNK
        while not inflater.eof:
            holding = self.produced < self._hold
            max_input = limits.max_input if holding or not self._tail else limits.max_tail_input
            if not holding and (
                not self._tail
                or self.produced
                > max(
                    limits.max_ratio * (consumed - len(inflater.unconsumed_tail)),
                    limits.min_tail_output,
                )
            ):
                self.cut = _has_more(inflater, self._read, start + consumed)
                return
            chunk = inflater.unconsumed_tail
            if not chunk:
                if consumed >= max_input:
                    self.cut = True
                    return
                chunk = self._read(start + consumed, min(size, max_input - consumed))
                if not chunk:
                    return  # truncated: the output so far is all there is
                consumed += len(chunk)
                size = min(size * 2, _MAX_CHUNK)
            # A piece at a time, held or not: one call could give the whole held part, kept
            # twice over (held, and the piece itself).
            want = min(self._hold - self.produced, _MAX_CHUNK) if holding else _MAX_CHUNK
            try:
                piece = inflater.decompress(chunk, want)
            except deflate.ERRORS:
                return  # corrupt from here on: the output so far is still scanned
            if holding:
                self._held += piece
            elif self._on_tail is not None and piece:
                self._on_tail(piece)
            self.produced += len(piece)
            if piece:
                yield piece


def _has_more(inflater: Any, read: Reader, at: int) -> bool:
    """Whether a stream stopped at a limit has output left (else it ended exactly there)."""
    if inflater.unconsumed_tail:
        return True
    try:
        more = read(at, _FIRST_CHUNK)
        return bool(more) and bool(inflater.decompress(more, 1))
    except deflate.ERRORS:
        return False


def _pdf_stream(read: Reader, stream: Stream, limits: Limits, cap: int) -> tuple[bytes, bool]:
    """Decode a PDF stream's filter chain, reading its input up to `endstream`."""
    chunks: list[bytes] = []
    consumed = 0
    size = _FIRST_CHUNK
    while consumed < limits.max_input:
        chunk = read(stream.data_offset + consumed, min(size, limits.max_input - consumed))
        if not chunk:
            break
        chunks.append(chunk)
        consumed += len(chunk)
        size = min(size * 2, _MAX_CHUNK)
        if b"endstream" in chunks[-1] or (
            len(chunks) > 1 and b"endstream" in chunks[-2][-9:] + chunk[:9]
        ):
            break
    raw = b"".join(chunks)
    end = raw.find(b"endstream")
    if end != -1:
        raw = raw[:end]
    data, cut = pdffilters.decode(raw, stream.filters, cap)
    return data, cut or (end == -1 and consumed >= limits.max_input)


def buffer_reader(data: bytes | memoryview) -> Reader:
    """A `Reader` over bytes already in memory (inflated output of an outer stream)."""

    def read(offset: int, length: int) -> bytes:
        return bytes(data[offset : offset + length])

    return read
