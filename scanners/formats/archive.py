"""Zip archives (and the office documents that are zips) and gzip files, nested and bounded."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from scanners import formats
from scanners.formats import Extracted, tables
from scanners.formats.document import xml_text

if TYPE_CHECKING:
    from scanners.formats import Budget

# XML parts of office documents that hold text: body, headers, footers, notes, comments,
# slides, shared strings and sheets (numbers such as personnummer are often stored as cells).
# Parts whose cells are read as tables (XLSX sheets and shared strings, ODS content).
_SHEET_PARTS = re.compile(r"^(?:xl/(?:sharedStrings|worksheets/sheet\d+)\.xml|content\.xml)$")
_OFFICE_PARTS = re.compile(
    r"^(?:word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
    r"|xl/(?:sharedStrings|worksheets/sheet\d+)\.xml"
    r"|ppt/(?:slides/slide\d+|notesSlides/notesSlide\d+)\.xml"
    r"|docProps/core\.xml"
    r"|content\.xml|styles\.xml|meta\.xml)$"
)


def extract_zip(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """Office documents (docx/xlsx/pptx, odt/ods/odp) as text; other zips member by member."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    office = "[Content_Types].xml" in names or "mimetype" in names
    sheets: dict[str, bytes] = {}  # spreadsheet parts, rendered as tables after the loop
    for info in archive.infolist():
        if info.is_dir():
            continue
        member = f"{path}!{info.filename}"
        if office and not _OFFICE_PARTS.match(info.filename):
            if info.filename.startswith(("word/embeddings/", "xl/embeddings/", "ppt/embeddings/")):
                yield from _member(archive, info, member, depth, budget)
            continue
        if office:
            body = _read(archive, info, budget)
            if body is None:
                yield Extracted(member, problem="over the unpack limit")
                continue
            if _SHEET_PARTS.match(info.filename):
                sheets[info.filename] = body
                continue
            # Text inside an office document is counted under the document's own path.
            yield Extracted(path, text=xml_text(body))
            continue
        yield from _member(archive, info, member, depth, budget)
    if sheets:
        yield from _sheets(path, sheets)


def _sheets(path: str, parts: dict[str, bytes]) -> Iterator[Extracted]:
    """Spreadsheet parts, as tables when a header names a personnummer column.

    The column's values then get its name as context; without such a header the parts give
    the XML's text as before. Text of an ODF document outside its tables is kept either way.
    """
    strings = tables.shared_strings(parts.pop("xl/sharedStrings.xml", b""))
    content = parts.pop("content.xml", None)
    grids = [tables.xlsx_rows(body, strings) for body in parts.values()]
    if content is not None:
        grids += tables.ods_tables(content)
    headed = [tables.header_and_rows(grid) for grid in grids]
    if not any(headed):
        if strings:
            yield Extracted(path, text="\n".join(strings))
        for body in [*parts.values(), *([content] if content is not None else [])]:
            yield Extracted(path, text=xml_text(body))
        return
    if content is not None:
        yield Extracted(path, text=xml_text(tables.without_tables(content)))
    for grid, found in zip(grids, headed, strict=True):
        if found:
            yield from tables.table_items(path, *found)
        else:
            yield Extracted(path, text="\n".join("\t".join(row) for row in grid))


def _member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, depth: int, budget: Budget
) -> Iterator[Extracted]:
    if info.flag_bits & 0x1:
        yield Extracted(member, problem="encrypted archive member")
        return
    if depth + 1 > budget.limits.max_depth:
        yield Extracted(member, problem="archive nested too deep")
        return
    body = _read(archive, info, budget)
    if body is None:
        yield Extracted(member, problem="over the unpack limit (zip bomb?)")
        return
    yield from formats.extract(member, body, depth + 1, budget)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes | None:
    """A member's bytes, read no further than the limits whatever its header claims."""
    limit = min(budget.limits.max_member, max(0, budget.bytes))
    with archive.open(info) as fh:
        body = fh.read(limit + 1)
    if len(body) > limit or not budget.take(len(body)):
        return None
    return body


GZIP_OVER_LIMIT = "over the unpack limit (gzip bomb?)"


def gzip_member(path: str) -> str:
    """The path of a gzip file's content: the file's name without `.gz`, after a `!`."""
    name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    return f"{path}!{name[:-3] if name.lower().endswith('.gz') else 'content'}"


class GzipReader:
    """A gzip file's content a piece at a time, member after member, as gzip(1) reads it.

    A gzip file may be several members one after the other (`cat a.gz b.gz`, pigz, appended
    logs): reading only the first left the rest unread and, since the raw pass leaves the
    files the file pass decodes to it, unread everywhere. Bytes after the last member that
    start no other member are kept in `tail` (read once `read` gives b""): they are matched as
    they are. A damaged member raises zlib.error; a cut one ends the content.
    """

    def __init__(self, data: bytes) -> None:
        self._inflater: Any = zlib.decompressobj(31)
        self._input = data
        self.tail = b""

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of content (at most one member's); b"" at the end."""
        while self._inflater is not None:
            piece = self._inflater.decompress(self._input, size)
            self._input = self._inflater.unconsumed_tail
            if piece:
                return piece
            if not self._inflater.eof:  # the input ended inside a member: cut short
                self._inflater = None
            elif self._inflater.unused_data[:2] == b"\x1f\x8b":
                self._input = self._inflater.unused_data
                self._inflater = zlib.decompressobj(31)
            else:
                self.tail = self._inflater.unused_data
                self._inflater = None
        return b""

    def read_up_to(self, size: int) -> bytes:
        """Content until `size` bytes or the end, whichever comes first."""
        parts, got = [], 0
        while got < size and (piece := self.read(size - got)):
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)


def extract_gzip(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """A gzip file: its content (every member), named after the file without `.gz`.

    Bytes after the last member go to the fast path as the file's own.
    """
    member = gzip_member(path)
    if depth + 1 > budget.limits.max_depth:
        yield Extracted(member, problem="archive nested too deep")
        return
    limit = min(budget.limits.max_member, max(0, budget.bytes))
    reader = GzipReader(data)
    body = reader.read_up_to(limit + 1)
    if len(body) > limit or not budget.take(len(body)):
        yield Extracted(member, problem=GZIP_OVER_LIMIT)
        return
    yield from formats.extract(member, body, depth + 1, budget)
    if reader.tail:
        yield Extracted(path, raw=reader.tail)
