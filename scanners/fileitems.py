"""What the file pass does with the pieces of one file, wherever it runs.

`formats.extract` turns a file into items (text, raw bytes, problems, archive members); this
module counts them: an archive member's name is redacted once (values in names are findings),
problems are reported, raw bytes and text go to the fast path, and the first `nlp_max_chars`
characters of a file's text also go to the name lexicon. The file pass's own thread uses it
(`scanners.files`), and so does a worker process that was handed a whole file
(`scanners.filework`), so both count a file the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.findings import Finding
    from scanners.formats import Extracted

TEXT_CHUNK = 1 << 20  # characters handed to the text detector at once (split at line ends)

# (path) -> (redacted path, [(finding, redacted path holding it), ...])
Redact = Callable[[str], "tuple[str, list[tuple[Finding, str]]]"]
Match = Callable[..., None]  # (path, data=b"", names="")
Report = Callable[[str, str], None]  # (region, reason)
Count = Callable[["Finding", str], None]  # a finding in a redacted member name, its path


def chunk_end(text: str, start: int = 0, size: int = TEXT_CHUNK) -> int:
    """Where the chunk of `text` from `start` ends.

    After the last line end within `size` characters, else after `size` characters, or at the
    end of the text.
    """
    end = min(len(text), start + size)
    if end < len(text):
        cut = text.rfind("\n", start, end)
        end = cut + 1 if cut > start else end
    return end


def chunks(text: str, size: int = TEXT_CHUNK) -> Iterator[str]:
    """Split long text at line ends, so no chunk cuts an identifier in two (one at a time)."""
    start = 0
    while start < len(text):
        end = chunk_end(text, start, size)
        yield text[start:end]
        start = end


class FileItems:
    """Counts the items of one file (`path`, already redacted) through `match` and `report`.

    Args:
        redact: redacts a member's path and finds the values in it.
        count: counts a value found in a member's name.
        match: matches bytes (fast path) and text (names) for a path.
        report: reports a region that could not be read, and why.
        nlp_max_chars: characters of the file's text that go to the name lexicon (shared
            with `on_text`, which may spend them: `names_left`).
        names: whether text goes to the name lexicon at all.
        on_text: takes a text item itself when it returns True (Presidio, in the pass's thread).
    """

    def __init__(
        self,
        path: str,
        *,
        redact: Redact,
        count: Count,
        match: Match,
        report: Report,
        nlp_max_chars: int,
        names: bool = True,
        on_text: Callable[[Extracted], bool] | None = None,
    ) -> None:
        self._members = {path: path}
        self._redact, self._count, self.match, self._report = redact, count, match, report
        self._names, self._on_text = names, on_text
        self.names_left = nlp_max_chars
        self.texts = 0  # text items that went to the fast path

    def member(self, path: str) -> str:
        """The redacted path of an item; a member's name is redacted (and counted) once."""
        redacted = self._members.get(path)
        if redacted is None:
            redacted, found = self._redact(path)
            for finding, where in found:
                self._count(finding, where)
            self._members[path] = redacted
        return redacted

    def item(self, item: Extracted) -> None:
        """Count one item: its member name, problem, raw bytes and text."""
        redacted = self.member(item.path)
        if redacted != item.path:
            item = replace(item, path=redacted)
        if item.problem is not None:
            self._report(item.path, item.problem)
        if item.raw is not None:
            self.match(item.path, item.raw)
        if not item.text or (self._on_text is not None and self._on_text(item)):
            return
        self.texts += 1
        for chunk in chunks(item.text):
            self.match(item.path, chunk.encode("utf-8"))
        self.text_names(item.path, item.text)

    def text_names(self, path: str, text: str) -> None:
        """The name lexicon on `text` of `path`, as far as the file's budget goes."""
        if self._names and self.names_left > 0 and text:
            head = text[: self.names_left]
            self.names_left -= len(head)
            self.match(path, names=head)
