"""Undo NTFS update-sequence fixups in raw pages, so resident files read as they were written.

NTFS protects each MFT record ("FILE") and index buffer ("INDX") by replacing the last two bytes
of every 512-byte sector with a sequence number, keeping the real bytes in the record header.
Small files live inside their MFT record, so on the raw medium every such file is torn at sector
ends: a compressed document there does not inflate, and an identifier across the tear does not
match. The raw pass puts the real bytes back in its own copy of the page before matching.
"""

from __future__ import annotations

import struct

_SECTOR = 512
_HEADER = struct.Struct("<4sHH")
_SIGNATURES = (b"FILE", b"INDX")


def apply_ntfs_fixups(buf: bytearray | memoryview, start: int = 0, end: int | None = None) -> int:
    """Restore the sector-end bytes of every valid record whose header lies in buf[start:end].

    Records are recognised by signature, sector alignment (relative to `start`, which must be a
    sector boundary of the medium), a plausible update-sequence array and matching sequence
    numbers at every sector end; anything else is left alone. Returns the records fixed.
    """
    end = len(buf) if end is None else end
    fixed = 0
    # Records start on sector boundaries: look at one byte per sector (a strided copy, 1/512 of
    # the page), then check the signatures only where their first letter stands.
    firsts = bytes(buf[start:end:_SECTOR])
    for letter in {s[0:1] for s in _SIGNATURES}:
        i = firsts.find(letter)
        while i != -1:
            pos = start + i * _SECTOR
            if buf[pos : pos + 4] in _SIGNATURES and _fix(buf, pos):
                fixed += 1
            i = firsts.find(letter, i + 1)
    return fixed


def _fix(buf: bytearray | memoryview, pos: int) -> bool:
    if pos + 8 > len(buf):
        return False
    _, usa_offset, usa_count = _HEADER.unpack_from(buf, pos)
    sectors = usa_count - 1
    if not (1 <= sectors <= 16 and 0x28 <= usa_offset < _SECTOR - 2 * usa_count):
        return False
    if pos + sectors * _SECTOR > len(buf):
        return False
    usa = pos + usa_offset
    usn = buf[usa : usa + 2]
    ends = [pos + i * _SECTOR - 2 for i in range(1, sectors + 1)]
    if any(buf[e : e + 2] != usn for e in ends):
        return False
    for i, e in enumerate(ends, start=1):
        buf[e : e + 2] = buf[usa + 2 * i : usa + 2 * i + 2]
    return True
