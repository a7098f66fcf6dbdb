"""E-mail (EML) and mailboxes (MBOX): headers, bodies and attachments, through stdlib email."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners import formats
from scanners.formats import Extracted
from scanners.formats.document import html_text

if TYPE_CHECKING:
    from email.message import Message

    from scanners.formats import Budget

_MBOX_SPLIT = re.compile(rb"(?:^|\n)From [^\n]*\n")
_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "subject", "sender")


def extract_email(path: str, data: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    """One message (EML) or every message of an MBOX file."""
    if data.startswith(b"From "):
        for i, raw in enumerate(m for m in _MBOX_SPLIT.split(data) if m.strip()):
            yield from _message(f"{path}!{i + 1}", raw, depth, budget)
    else:
        yield from _message(path, data, depth, budget)


def _message(path: str, raw: bytes, depth: int, budget: Budget) -> Iterator[Extracted]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    lines = []
    for name in _HEADERS:
        for value in msg.get_all(name, []):
            lines.append(str(email.header.make_header(email.header.decode_header(str(value)))))
    yield Extracted(path, text="\n".join(lines))
    for part in msg.walk():
        if part.is_multipart():
            continue
        yield from _part(path, part, depth, budget)


def _part(path: str, part: Message, depth: int, budget: Budget) -> Iterator[Extracted]:
    payload = part.get_payload(decode=True) or b""
    filename = part.get_filename()
    ctype = part.get_content_type()
    if filename:
        if depth + 1 > budget.limits.max_depth or not budget.take(len(payload)):
            yield Extracted(f"{path}!{filename}", problem="attachment over the limits")
            return
        yield from formats.extract(f"{path}!{filename}", payload, depth + 1, budget)
        return
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        text = payload.decode("latin-1")
    if ctype == "text/html":
        text = html_text(text)
    elif not ctype.startswith("text/"):
        yield Extracted(path, raw=payload)
        return
    yield Extracted(path, text=text)
