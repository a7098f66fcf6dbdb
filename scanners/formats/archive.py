"""Zip archives (and the office documents that are zips) and gzip files, nested and bounded."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners import formats
from scanners.formats import Extracted
from scanners.formats.document import xml_text

if TYPE_CHECKING:
    from scanners.formats import Budget

# XML parts of office documents that hold text: body, headers, footers, notes, comments,
# slides, shared strings and sheets (numbers such as personnummer are often stored as cells).
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
            # Text inside an office document is counted under the document's own path.
            yield Extracted(path, text=xml_text(body))
            continue
        yield from _member(archive, info, member, depth, budget)


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


def extract_gzip(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """A gzip file: its content, named after the file without `.gz`."""
    name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    member = f"{path}!{name[:-3] if name.lower().endswith('.gz') else 'content'}"
    if depth + 1 > budget.limits.max_depth:
        yield Extracted(member, problem="archive nested too deep")
        return
    limit = min(budget.limits.max_member, max(0, budget.bytes))
    inflater = zlib.decompressobj(31)
    body = inflater.decompress(data, limit + 1)
    if len(body) > limit or not budget.take(len(body)):
        yield Extracted(member, problem="over the unpack limit (gzip bomb?)")
        return
    yield from formats.extract(member, body, depth + 1, budget)
