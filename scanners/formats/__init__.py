"""Text extraction from the file formats people keep personal data in.

`extract(path, data)` names the format from magic bytes (then the file name), and yields
`Extracted` items: text for the text detector, raw bytes for the fast path when the format is
unknown, and problems (encrypted, corrupt, over a limit) for the report. Containers (zip, gzip,
e-mail attachments) hand their members back to `extract`, one level deeper, within `Limits`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds for nested containers (zip bombs, deep nesting)."""

    max_depth: int = 4  # containers inside containers
    max_member: int = 32 << 20  # bytes of one unpacked member
    max_total: int = 128 << 20  # bytes unpacked from one file on the drive, over all members
    max_members: int = 10_000  # members per file on the drive


@dataclass(frozen=True, slots=True)
class Extracted:
    """One piece of a file: text, raw bytes, or a problem; `path` names the file or member."""

    path: str
    text: str | None = None
    raw: bytes | None = None
    problem: str | None = None


class Budget:
    """Bytes and members still allowed for one file on the drive."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes = limits.max_total
        self.members = limits.max_members

    def take(self, n: int) -> bool:
        """Spend `n` unpacked bytes and one member; False when over the budget."""
        self.members -= 1
        self.bytes -= n
        return self.bytes >= 0 and self.members >= 0


Extractor = Callable[[str, bytes, int, Budget], Iterator[Extracted]]


def extract(
    path: str, data: bytes, depth: int = 0, budget: Budget | None = None
) -> Iterator[Extracted]:
    """Yield the text (or raw bytes) of `data`, a file named `path`."""
    budget = budget or Budget(Limits())
    kind = sniff(path, data)
    try:
        yield from EXTRACTORS[kind](path, data, depth, budget)
    except Exception as e:  # a corrupt document must not stop the scan
        # The error's kind only: parser messages can quote document text.
        # No path either: a member's name may hold a value (files.py redacts it only later).
        log.debug("extracting a %s failed: %s", kind, type(e).__name__)
        yield Extracted(path, problem=f"{kind} file could not be read: {type(e).__name__}")
        yield Extracted(path, raw=data)


def sniff(path: str, data: bytes) -> str:
    """The format of a file, from its first bytes, then its name."""
    head = data[:512]
    name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"%PDF-") or (ext == "pdf" and b"%PDF-" in head):
        return "pdf"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if ext in ("eml", "msg_", "mbox", "mbx") or head.startswith(b"From ") or _looks_like_mail(head):
        return "email"
    lowered = head.lstrip().lower()
    if ext in ("html", "htm", "xhtml") or lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _looks_like_mail(head: bytes) -> bool:
    lines = head.split(b"\n", 8)
    headers = sum(1 for line in lines if line.split(b":", 1)[0].lower() in _MAIL_HEADERS)
    return headers >= 3


_MAIL_HEADERS = frozenset(
    {
        b"from",
        b"to",
        b"subject",
        b"date",
        b"received",
        b"message-id",
        b"mime-version",
        b"return-path",
        b"cc",
        b"content-type",
    }
)

from scanners.formats import archive, document, eml, pdf, plain, sqlite  # noqa: E402

# Checked by `sniff` in this order: containers by magic first, since docx and odt are zips too.
EXTRACTORS: dict[str, Extractor] = {
    "zip": archive.extract_zip,
    "gzip": archive.extract_gzip,
    "pdf": pdf.extract_pdf,
    "sqlite": sqlite.extract_sqlite,
    "rtf": document.extract_rtf,
    "email": eml.extract_email,
    "html": document.extract_html,
    "text": plain.extract_text,
}

__all__ = ["EXTRACTORS", "Budget", "Extracted", "Limits", "extract", "sniff"]
