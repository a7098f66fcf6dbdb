"""PDF text through pypdf; encrypted PDFs that need a password are reported, not skipped."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners.formats import Extracted

if TYPE_CHECKING:
    from scanners.formats import Budget

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed PDFs are expected on drives


def extract_pdf(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """Text of every page plus the document information (author, title)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        yield Extracted(path, problem="encrypted PDF (password required)")
        return
    parts = []
    info = reader.metadata or {}
    parts.extend(str(v) for v in info.values())
    for page in reader.pages:
        try:
            parts.append(page.extract_text() or "")
        except Exception as e:  # one broken page must not hide the others
            log.debug("a pdf page failed: %s", type(e).__name__)  # no path: names may hold values
    yield Extracted(path, text="\n".join(parts))
