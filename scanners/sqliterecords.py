"""SQLite table records in raw bytes: match each field alone, so neighbours do not glue.

A record stores its fields back to back with no separator (`anna` then `anna@example.se` reads as
`annaanna@example.se`), and the record header's bytes before them can be printable too. The raw
pass finds table leaf pages (live or deleted databases) by their header and checks each cell
exactly (the serial types must add up to the payload length), then matches the record's text
fields each on their own; findings of the plain matching that touch a record are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners import records
from scanners.arrays import np

if TYPE_CHECKING:
    from scanners.pagescan import Matcher

_LEAF_TABLE = 0x0D
_ALIGN = 512  # database pages start on a sector boundary of the medium (file systems align them)
_SEPARATOR = b"\n\x01\x01\n"  # no pattern runs across a control byte between line ends


def _varint(data: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `pos`: (value, next position); (-1, pos) past `end`."""
    value = 0
    for i in range(9):
        if pos + i >= end:
            return -1, pos
        byte = data[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    return -1, pos  # not reached


def _body_size(serial: int) -> int:
    if serial < 12:
        return (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1)[serial]
    return (serial - 12) // 2


def _record(data: bytes | memoryview, cell: int, end: int) -> list[tuple[int, int]] | None:
    """Text field ranges of the table-leaf cell at `cell`, or None unless it checks exactly."""
    size, pos = _varint(data, cell, end)
    if size <= 0 or size > 65536:  # larger payloads spill to overflow pages: left as they are
        return None
    _rowid, pos = _varint(data, pos, end)
    start = pos
    header, pos = _varint(data, pos, end)
    if header < 2 or header > size or start + size > end:
        return None
    body = start + header
    total = header
    fields = []
    while pos < start + header:
        serial, pos = _varint(data, pos, end)
        n = _body_size(serial)
        if serial < 0 or n < 0:
            return None
        if serial >= 13 and serial % 2:  # text
            fields.append((body + total - header, body + total - header + n))
        total += n
    if pos != start + header or total != size:
        return None
    return fields


def _leaf_cells(data: bytes | memoryview, header: int, page: int, end: int) -> list[int] | None:
    """Cell offsets of a table leaf page whose header is at `header` (page start `page`)."""
    count = int.from_bytes(data[header + 3 : header + 5], "big")
    content = int.from_bytes(data[header + 5 : header + 7], "big") or 65536
    pointers = header + 8
    if count == 0 or pointers + 2 * count > end or content < pointers - page + 2 * count:
        return None
    cells = []
    for i in range(count):
        cell = int.from_bytes(data[pointers + 2 * i : pointers + 2 * i + 2], "big")
        if cell < content or page + cell >= end:
            return None
        cells.append(page + cell)
    return cells


def text_fields(data: bytes | memoryview, base: int, start: int, end: int) -> list[tuple[int, int]]:
    """Ranges (indexes into `data`) of text fields of table records.

    Pages are looked for where they may start in data[start:end]; `base` is data[0]'s offset on
    the target, which fixes the page alignment.
    """
    fields: list[tuple[int, int]] = []
    first = start + (-(base + start)) % _ALIGN
    # Every 512th byte, copied out in C: only page starts that hold a table-leaf type byte or the
    # database header's "S" are looked at in Python (about 1 in 128 of them in random data).
    stride = bytes(data[first:end:_ALIGN])
    for lead in (b"\x0d", b"S"):
        k = stride.find(lead)
        while k != -1:
            page = first + k * _ALIGN
            k = stride.find(lead, k + 1)
            if lead == b"S" and data[page : page + 16] != b"SQLite format 3\x00":
                continue
            header = page if lead == b"\x0d" else page + 100
            if header + 8 > len(data) or data[header] != _LEAF_TABLE:
                continue
            cells = _leaf_cells(data, header, page, len(data))
            if cells is None:
                continue
            records = [_record(data, cell, len(data)) for cell in cells]
            if any(r is None for r in records):
                continue  # one cell that does not check: not a table page after all
            for record in records:
                fields.extend(record)  # type: ignore[arg-type]
    return fields


class Records:
    """The SQLite record fields of one raw-pass page, matched each alone.

    Found once per page, and applied to each piece of the page as it is matched: a table page
    can start up to 64 KiB before a piece's context does. Values are records
    (`scanners.records`), as the raw pass counts them.
    """

    def __init__(
        self, data: bytes | memoryview, base: int, start: int, end: int, matcher: Matcher
    ) -> None:
        fields = text_fields(data, base, start, end)
        fields.sort()
        self._fields = [(base + lo, base + hi) for lo, hi in fields]
        self.found = records.empty()
        if not fields:
            return
        joined = bytearray()
        inside, on_target = [], []  # where each field starts in `joined` and on the target
        for lo, hi in fields:
            inside.append(len(joined))
            on_target.append(base + lo)
            joined += data[lo:hi]
            joined += _SEPARATOR
        found = matcher.scan_records(bytes(joined), 0).copy()
        field = np.searchsorted(inside, found["offset"], "right") - 1
        found["offset"] += np.asarray(on_target)[field] - np.asarray(inside)[field]
        self.found = records.by_offset(found)
        self._starts = np.asarray([lo for lo, _ in self._fields])
        # The furthest end of the fields up to each one: fields may overlap in a damaged page.
        self._reach = np.maximum.accumulate(np.asarray([hi for _, hi in self._fields]))

    def apply(self, found: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Values starting in [lo, hi): the plain ones that touch no field, and the fields'."""
        kept = records.within(found, lo, hi)
        if not self._fields:
            return kept
        starts, ends = kept["offset"], kept["offset"] + kept["length"]
        before = np.searchsorted(self._starts, ends, "left")  # fields starting before the end
        touching = (before > 0) & (self._reach[np.maximum(before - 1, 0)] > starts)
        return records.by_offset(
            records.joined([kept[~touching], records.within(self.found, lo, hi)])
        )
