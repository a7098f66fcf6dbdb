"""PDF stream filters for raw bytes: find a stream's filter chain and decode it, bounded.

A PDF that reportlab (and many other writers) produce stores each page as
`/Filter [/ASCII85Decode /FlateDecode]`: the zlib header is ASCII85 text, so the raw pass's zlib
signatures never see it, and a deleted PDF's text would pass as clean. The raw pass finds the
filter names instead (`scanners.inflate` searches for them with the other signatures), and this
module reads the stream dictionary around the name and undoes the chain: ASCII85, ASCIIHex, LZW,
RunLength and Flate, in the order the dictionary lists them. Every stage stops at `cap` output
bytes; the caller learns whether the output was cut there. Broken input (a partly overwritten
deleted file) ends a stage quietly: what was decoded so far is still scanned.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable

# Filter names as they appear in a stream dictionary; the abbreviations are for inline images.
FILTER_NAMES = (b"/ASCII85Decode", b"/ASCIIHexDecode", b"/LZWDecode", b"/RunLengthDecode")
_ALIASES = {
    b"ASCII85Decode": "a85",
    b"A85": "a85",
    b"ASCIIHexDecode": "hex",
    b"AHx": "hex",
    b"LZWDecode": "lzw",
    b"LZW": "lzw",
    b"RunLengthDecode": "rl",
    b"RL": "rl",
    b"FlateDecode": "flate",
    b"Fl": "flate",
}
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]{0,200}\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_STREAM = re.compile(rb"stream\r?\n")
_DICT_REACH = 1024  # bytes searched around a filter name for /Filter and the `stream` keyword


def stream_at(data: bytes | memoryview, pos: int) -> tuple[int, tuple[str, ...]] | None:
    """The stream whose dictionary holds the filter name at `pos`: (data offset, filters).

    Returns None when no `/Filter` entry with a known chain and no `stream` keyword follow.
    """
    lo = max(0, pos - 200)
    window = bytes(data[lo : pos + _DICT_REACH])
    at = window.rfind(b"/Filter", 0, pos - lo)
    m = _FILTER.match(window, at) if at != -1 else None
    if m is None or m.end() <= pos - lo:  # the name must lie in this /Filter entry
        return None
    filters = []
    for name in _NAME.findall(m.group(1)):
        kind = _ALIASES.get(name)
        if kind is None:  # DCT, JBIG2, Crypt...: not text we can reach
            return None
        filters.append(kind)
    s = _STREAM.search(window, m.end())
    if s is None:
        return None
    return lo + s.end(), tuple(filters)


def decode(raw: bytes, filters: tuple[str, ...], cap: int) -> tuple[bytes, bool]:
    """Undo `filters` on `raw`; returns the output (at most `cap` bytes) and whether it was cut."""
    cut = False
    data = raw
    for kind in filters:
        data, stage_cut = _DECODERS[kind](data, cap)
        cut = cut or stage_cut
        if not data:
            break
    return data, cut


_A85_TEXT = re.compile(rb"[!-uz\s]*")
_HEX_TEXT = re.compile(rb"[0-9A-Fa-f\s]*")
_SPACE = re.compile(rb"\s+")


def _a85(data: bytes, cap: int) -> tuple[bytes, bool]:
    text = _SPACE.sub(b"", _A85_TEXT.match(data).group(0))  # type: ignore[union-attr]
    text = text[: len(text) - len(text) % 5] if len(text) % 5 == 1 else text
    try:
        out = base64.a85decode(text)
    except ValueError:
        return b"", False
    return out[:cap], len(out) > cap


def _hex(data: bytes, cap: int) -> tuple[bytes, bool]:
    text = _SPACE.sub(b"", _HEX_TEXT.match(data).group(0))  # type: ignore[union-attr]
    if len(text) % 2:
        text += b"0"  # the spec's rule for an odd final digit
    out = bytes.fromhex(text.decode("ascii"))
    return out[:cap], len(out) > cap


def _flate(data: bytes, cap: int) -> tuple[bytes, bool]:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, cap)
    except zlib.error:
        return b"", False
    return out, len(out) >= cap and not inflater.eof


def _run_length(data: bytes, cap: int) -> tuple[bytes, bool]:
    out = bytearray()
    i = 0
    while i < len(data) and len(out) < cap:
        n = data[i]
        if n == 128:  # end of data
            return bytes(out[:cap]), False
        if n < 128:
            out += data[i + 1 : i + 2 + n]
            i += 2 + n
        else:
            out += data[i + 1 : i + 2] * (257 - n)
            i += 2
    return bytes(out[:cap]), i < len(data)


def _lzw(data: bytes, cap: int) -> tuple[bytes, bool]:
    """PDF LZW (EarlyChange 1): 9 to 12-bit codes, 256 clears the table, 257 ends the data."""
    out = bytearray()
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    width, prev = 9, b""
    bits = nbits = 0
    for byte in data:
        bits = (bits << 8) | byte
        nbits += 8
        while nbits >= width:
            nbits -= width
            code = (bits >> nbits) & ((1 << width) - 1)
            bits &= (1 << nbits) - 1
            if code == 256:
                table, width, prev = table[:258], 9, b""
                continue
            if code == 257:
                return bytes(out[:cap]), False
            if code < len(table):
                entry = table[code]
                if prev:
                    table.append(prev + entry[:1])
            elif code == len(table) and prev:
                entry = prev + prev[:1]
                table.append(entry)
            else:
                return bytes(out[:cap]), False  # corrupt: keep what was decoded
            out += entry
            if len(out) >= cap:
                return bytes(out[:cap]), True
            prev = entry
            if len(table) + 1 >= 1 << width and width < 12:
                width += 1
    return bytes(out[:cap]), False


_DECODERS: dict[str, Callable[[bytes, int], tuple[bytes, bool]]] = {
    "a85": _a85,
    "hex": _hex,
    "lzw": _lzw,
    "rl": _run_length,
    "flate": _flate,
}
