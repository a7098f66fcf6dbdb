"""E-mail addresses (RFC 5321 limits, ASCII local part, a real-looking top-level domain).

No library here: `email.utils` accepts almost anything, and Presidio's own recognizer fetches the
public suffix list through tldextract. A top-level domain of 2-24 letters is enough offline.
"""

from __future__ import annotations

import re

_ADDRESS = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
)


def parse(value: str) -> str | None:
    """The lower-cased address when `value` is a well-formed e-mail address, else None."""
    m = _ADDRESS.fullmatch(value)
    if m is None or len(m.group("local")) > 64 or len(m.group("domain")) > 253:
        return None
    return value.lower()


def is_valid(value: str) -> bool:
    """True for a well-formed e-mail address."""
    return parse(value) is not None
