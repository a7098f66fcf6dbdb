"""Plain text (and CSV) in any common encoding; bytes that are not text go to the fast path."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.formats import Budget

from scanners.arrays import np
from scanners.formats import Extracted
from scanners.formats.tables import csv_header, csv_table_items, table_items

# Bytes that cp1252 leaves undefined: their presence means Latin-1 (or not text at all).
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1a")
_NOT_CONTROLS = bytes(b for b in range(256) if b >= 0x20 or b in _TEXT_CONTROLS)


SNIFF = 65536  # bytes `text_form` reads to judge a file
UTF8_FIRST = "utf-8 first"  # `text_form`: UTF-8 where valid, else cp1252 or Latin-1


def text_form(data: bytes) -> str:
    """How `decode` reads `data`, judged from its first 64 KB.

    "bom", an encoding ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"), "binary", or
    `UTF8_FIRST`.
    """
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return "bom"
    sample = data[:SNIFF]
    if b"\x00" not in sample:  # no zero byte: no wide text, and no NUL
        return "binary" if _binary(sample) else UTF8_FIRST
    # UTF-16 and UTF-32 both need zeros in more than 9 of 10 units of one byte position: more
    # zeros in all than 0.9 x (len - 1) // 2 (`_utf16_le` of the sample or of sample[1:]), and
    # UTF-32 more than 0.9 x 3 x len // 4 (`_utf32_zeros`' own rule, on all the zeros). The zeros
    # are counted once, by numpy, in every position: bytes.count and the strided slices took
    # 50 us for a library's 64 KB head, and a system disk has thousands of them.
    zero = np.frombuffer(sample, dtype=np.uint8) == 0
    zeros = int(np.count_nonzero(zero))
    if zeros > 0.9 * ((len(sample) - 1) // 2):
        if zeros > 0.9 * 3 * (len(sample) // 4):
            for encoding, unit in (("utf-32-le", 0), ("utf-32-be", 3)):
                if _utf32_zeros(zero, unit):
                    return encoding
        if _utf16_le_zeros(zero):
            return "utf-16-le"
        if _utf16_le_zeros(zero[1:]):
            return "utf-16-be"
    return "binary"  # a NUL, and not wide text


def decode(data: bytes, form: str | None = None) -> str | None:
    """Text of `data` if it is text: BOM, UTF-32 or UTF-16 without one, UTF-8, cp1252/Latin-1.

    `form`: `text_form(data)` where the caller has it already. Returns None for binary data.
    """
    form = text_form(data) if form is None else form
    if form == "bom":
        bom, encoding = next((b, e) for b, e in _BOMS if data.startswith(b))
        return data[len(bom) :].decode(encoding.replace("-sig", ""), errors="replace")
    if form.startswith("utf-32"):
        return data[: len(data) - len(data) % 4].decode(form, errors="replace")
    if form.startswith("utf-16"):
        return data.decode(form, errors="replace")
    if form == "binary":
        return None
    sample = data[:SNIFF]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _CP1252_HOLES.isdisjoint(sample):
        return data.decode("cp1252", errors="replace")
    return data.decode("latin-1")


def _utf16_le(sample: bytes) -> bool:
    # ASCII-range text in UTF-16LE: nearly every odd byte is zero, few even bytes are. 8-bit
    # text holds no zero byte at all, which one search (memchr) tells, where the two strided
    # copies below cost 5 us a 4 KB head (the map asks up to four times a file).
    if b"\x00" not in sample:
        return False
    odd = sample[1::2]
    even = sample[0::2]
    if len(odd) < 8:
        return False
    return odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even)


def _utf32_zeros(zero: np.ndarray, low: int) -> bool:
    """UTF-32 of the sample whose zero bytes `zero` marks.

    Text below U+10000 in UTF-32: three of every four bytes are zero, nearly never the low one
    (byte 0 of each unit in LE, byte 3 in BE). Checked before UTF-16, which it would also pass.
    """
    units = len(zero) // 4
    if units < 8:
        return False
    zeros = sum(int(np.count_nonzero(zero[i::4])) for i in range(4) if i != low)
    return zeros > 0.9 * 3 * units and int(np.count_nonzero(zero[low::4])) < 0.1 * units


def _utf16_le_zeros(zero: np.ndarray) -> bool:
    """`_utf16_le` of the sample whose zero bytes `zero` marks."""
    odd, even = zero[1::2], zero[0::2]
    if len(odd) < 8:
        return False
    return bool(np.count_nonzero(odd) > 0.9 * len(odd) and np.count_nonzero(even) < 0.1 * len(even))


def _binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample:  # most binaries: found in the first bytes, no pass over the rest
        return True
    # The control bytes are what deleting every other byte leaves (in C, not a loop per byte).
    return len(sample.translate(None, _NOT_CONTROLS)) > len(sample) // 100


def extract_text(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """Text files (TXT, CSV, logs, source) as text; anything binary as raw bytes."""
    text = decode(data)
    if text is None:
        yield Extracted(path, raw=data)
        return
    header = csv_header(text)
    if header is None:
        yield Extracted(path, text=text)
        return
    # A CSV/TSV whose header names a personnummer column: its values get the name as context.
    delimiter, columns = header
    fast = csv_table_items(path, text, delimiter, columns)
    if fast is not None:
        yield from fast
        return
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]
    except csv.Error:  # not CSV after all (a NUL, an over-long field): plain text then
        yield Extracted(path, text=text)
        return
    yield from table_items(path, columns, rows)
