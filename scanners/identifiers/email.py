"""E-mail addresses: RFC 5321 limits, RFC 6531 UTF-8 local parts, IDN domains, a real-looking TLD.

No library here: `email.utils` accepts almost anything, and Presidio's own recognizer fetches the
public suffix list through tldextract. A top-level domain of 2-24 letters, or a punycode one
(`xn--p1ai`), is enough offline. Quoted local parts and address literals (`a@[192.0.2.1]`) are
not looked for: they do not occur in the text a customer's drive holds.

The normalized form is lower case with punycode labels decoded (`user@xn--rksmrgs-5wao1o.se`
and `user@räksmörgås.se` are one address), so both spellings give one digest.
"""

from __future__ import annotations

import contextlib
import re

# Atom characters of RFC 5322, plus any letter or digit of another script (RFC 6531).
# One character class, not an alternation of two overlapping ones: `(?:[a-z...]|[^\W_])+`
# backtracked through 2^n ways on a local part that fails at its end (64 letters and a space
# never returned).
_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")
_TLD = re.compile(r"[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59}")
# The same rules for an all-ASCII address without a `--` in its domain (no A-label to decode),
# which is nearly every address on a drive: one match instead of a match per label.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ASCII_ADDRESS = re.compile(
    rf"(?P<local>{_ATEXT}+(?:\.{_ATEXT}+)*)@(?P<domain>(?:{_ASCII_LABEL}\.)+[A-Za-z]{{2,24}})"
)


def _label_ok(label: str) -> bool:
    if _LABEL.fullmatch(label) is None or "_" in label:
        return False
    if label[2:4] == "--":  # reserved for A-labels (IDNA 2008), which must decode
        return label[:4].lower() == "xn--" and _a_label_ok(label)
    if label.isascii():
        return True
    try:  # an IDN label must have a punycode form of at most 63 characters
        return len(label.encode("idna")) <= 63
    except UnicodeError:
        return False


def _a_label_ok(label: str) -> bool:
    try:
        label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True


def _unicode_domain(domain: str) -> str:
    """The domain with its punycode labels decoded (`xn--...` -> Unicode), lower case."""
    out = []
    for label in domain.lower().split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        out.append(label)
    return ".".join(out)


def parse(value: str) -> str | None:
    """The normalized address when `value` is a well-formed e-mail address, else None."""
    if value.isascii() and "--" not in value.rpartition("@")[2]:
        m = _ASCII_ADDRESS.fullmatch(value)
        if m is None or len(m["local"]) > 64 or len(m["domain"]) > 253:
            return None
        return value.lower()
    return _parse_general(value)


def _parse_general(value: str) -> str | None:
    """`parse` for any address: Unicode local parts, IDN and punycode domains."""
    local, at, domain = value.rpartition("@")
    if not at or not local or len(local.encode("utf-8")) > 64 or _LOCAL.fullmatch(local) is None:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or _TLD.fullmatch(labels[-1]) is None or not _label_ok(labels[-1]):
        return None
    if not all(_label_ok(label) for label in labels[:-1]):
        return None
    if domain.isascii():  # checked above label by label: no IDNA codec (slow) needed
        if len(domain) > 253:
            return None
        unicode_domain = _unicode_domain(domain) if "xn--" in domain.lower() else domain.lower()
        return f"{local.lower()}@{unicode_domain}"
    try:
        ascii_domain = domain.encode("idna")
    except UnicodeError:
        return None
    if len(ascii_domain) > 253:
        return None
    return f"{local.lower()}@{_unicode_domain(domain)}"


def is_valid(value: str) -> bool:
    """True for a well-formed e-mail address."""
    return parse(value) is not None
