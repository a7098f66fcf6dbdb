"""HTML, RTF and the XML inside office documents (OOXML and OpenDocument) to plain text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from scanners.formats import Extracted
from scanners.formats.plain import decode

if TYPE_CHECKING:
    from scanners.formats import Budget

# Elements that end a paragraph, cell or line in OOXML (w:, a:, x: sheets) and ODF (text:, table:).
_BREAKS = re.compile(
    rb"</(?:w:p|a:p|text:p|text:h|table:table-cell|si|c|row|w:tc|a:tc)>"
    rb"|<(?:w:br|w:tab|w:cr|a:br|text:line-break|text:tab|text:s)\b[^>]*/>"
)
_TAG = re.compile(rb"<[^>]*>")


def xml_text(data: bytes) -> str:
    """Text of an office XML part: tags dropped, paragraph and cell ends kept as line breaks.

    Runs inside a paragraph are joined without a space, because Word splits words (and
    numbers) into runs at arbitrary points. A regex is used rather than an XML parser, so entity
    expansion attacks cannot happen and broken parts from deleted files still give their text.
    """
    text = _TAG.sub(b"", _BREAKS.sub(b"\n", data))
    return html.unescape(text.decode("utf-8", errors="replace"))


class _HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "head"})
    _BLOCK = frozenset({"p", "div", "br", "tr", "td", "th", "li", "h1", "h2", "h3", "h4", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP and tag != "head":
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n")
        for name, value in attrs:
            # Contact links hold addresses and numbers that the page may not show as text.
            if name == "href" and value and value.lower().startswith(("mailto:", "tel:")):
                self.parts.append(" " + value.split(":", 1)[1] + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and tag != "head" and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """Visible text of an HTML document (scripts and styles dropped)."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def extract_html(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """HTML pages and saved mails."""
    yield Extracted(path, text=html_text(decode(data) or data.decode("latin-1")))


_RTF_TOKEN = re.compile(
    rb"\\'([0-9a-fA-F]{2})|\\u(-?\d+)\??|\\([a-zA-Z]+)(-?\d+)? ?|\\(.)|([{}])"
    rb"|([^\\{}\r\n]+)|[\r\n]+"
)
_RTF_BREAKS = frozenset({b"par", b"line", b"row", b"cell", b"tab", b"sect", b"page"})
# Destinations whose content is not document text (fonts, colours, pictures, binary objects).
_RTF_SKIP = frozenset(
    {
        b"fonttbl",
        b"colortbl",
        b"stylesheet",
        b"pict",
        b"object",
        b"themedata",
        b"colorschememapping",
        b"datastore",
        b"latentstyles",
        b"listtable",
        b"listoverridetable",
        b"rsidtbl",
        b"generator",
        b"xmlnstbl",
        b"wgrffmtfilter",
        b"mmathPr",
        b"fldinst",
    }
)


def rtf_text(data: bytes) -> str:
    """Text of an RTF document: \\'hh bytes as cp1252, \\uN as Unicode, control words dropped."""
    out: list[str] = []
    stack: list[bool] = []
    skip = False
    star = False
    for m in _RTF_TOKEN.finditer(data):
        hexbyte, uni, word, _arg, sym, brace, text = m.groups()
        if brace == b"{":
            stack.append(skip)
            star = False
        elif brace == b"}":
            skip = stack.pop() if stack else False
        elif word is not None:
            if word in _RTF_SKIP or star:
                skip = True
            elif word in _RTF_BREAKS and not skip:
                out.append("\n")
            star = False
        elif sym == b"*":
            star = True
        elif skip:
            continue
        elif hexbyte is not None:
            out.append(bytes([int(hexbyte, 16)]).decode("cp1252", errors="replace"))
        elif uni is not None:
            out.append(chr(int(uni) % 65536))
        elif sym is not None:
            out.append(sym.decode("latin-1") if sym in (b"\\", b"{", b"}") else " ")
        elif text is not None:
            out.append(text.decode("cp1252", errors="replace"))
    return "".join(out)


def extract_rtf(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """RTF documents (WordPad, exported letters)."""
    yield Extracted(path, text=rtf_text(data))
