"""The candidate patterns of the raw fast path, written once and compiled for two encodings.

Every pattern is written over ASCII (plus the Latin letters Å Ä Ö) for text in ASCII, UTF-8 and
Latin-1, and `utf16` derives its UTF-16LE twin by turning each character atom into
`(?:atom\\x00)`. A pattern finds a *candidate*: where a value of its kind may start. Validation
(dates, Luhn, mod 97, libphonenumber) happens in `scanners.rules`, on candidates only.

Each pattern ends in a boundary that the next character must satisfy (`tail`), so that a run of a
hundred million digits yields one candidate at its end instead of one per position; the boundary
before the value (`lead`) is checked in Python for hyperscan and re2, which have no look-behind,
and as a look-behind for Python `re`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanners import context
from scanners.identifiers.iban import countries as iban_countries
from scanners.identifiers.postal import STREET_SUFFIXES

# Upper-case first letter of a Swedish place name, in UTF-8 (Å Ä Ö) and Latin-1.
_UPPER_8 = r"(?:[A-Z]|\xc3[\x84\x85\x96]|[\xc4\xc5\xd6])"
_UPPER_16 = r"[A-Z\xc4\xc5\xd6]"
_HEX = "[0-9A-Fa-f]"
_GROUP = f"{_HEX}{{1,4}}"
_GROUPS = f"(?:{_GROUP}(?::{_GROUP}){{0,6}})?"  # up to seven groups beside an IPv6 `::`


def _first_letter_groups(codes: tuple[str, ...]) -> str:
    """Two-letter codes as `(?:A[DE]|B[A]...)`: one alternative per first letter."""
    seconds: dict[str, str] = {}
    for code in codes:
        seconds[code[0]] = seconds.get(code[0], "") + code[1]
    return "(?:" + "|".join(f"{first}[{rest}]" for first, rest in seconds.items()) + ")"


# An IBAN starts with a country that has IBANs (any other is refused by `iban.parse`).
_IBAN_COUNTRY = _first_letter_groups(iban_countries())


@dataclass(frozen=True, slots=True)
class Kind:
    """One candidate pattern: `core` is the value, `after` must follow it, `lead` must not precede.

    `lead` and the class inside `after` are plain character sets (regex class bodies).
    """

    name: str
    core: str
    lead: str
    after: str
    after_16: str | None = None  # `after` to translate for UTF-16, when `after` has UTF-8 bytes
    trigger: str | None = None  # a cheaper prefix of `core` for the engines (no flood possible)
    gate: Gate | None = None  # context-only kinds: keyword patterns for the engines instead
    # Put the `lead` boundary into the engine pattern (the match then starts one character
    # early): for kinds whose first character is common inside longer numbers ("0" for phones).
    lead_in_pattern: bool = False


def _tail(chars: str) -> str:
    return rf"(?:[^{chars}]|$)"


def _keyword(word: str, wide: bool) -> str:
    """One context keyword as a bytes regex.

    ASCII letters match in either case; other characters in UTF-8 or Latin-1 (8-bit), or as
    one UTF-16LE unit.
    """
    out = []
    for ch in word:
        if ch.isascii():
            atom = f"[{ch.upper()}{ch}]" if ch.isalpha() else re.escape(ch)
            out.append(rf"(?:{atom}\x00)" if wide else atom)
        elif wide:
            out.append("".join(rf"\x{b:02x}" for b in ch.encode("utf-16-le")))
        else:
            utf8 = "".join(rf"\x{b:02x}" for b in ch.encode("utf-8"))
            out.append(rf"(?:{utf8}|\x{ord(ch):02x})" if ord(ch) < 256 else f"(?:{utf8})")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Gate:
    """The engine patterns of a kind that counts only near certain words (see `_gate_sources`).

    `before` and `after` are the rules' windows in characters (0: no pattern for that side).
    """

    words: tuple[str, ...]
    before: int = context.BEFORE
    after: int = context.AFTER


def _words(*categories: str) -> tuple[str, ...]:
    return tuple(w for c in categories for w in context.KEYWORDS[c])


def _gate_sources(kind: Kind, wide: bool) -> tuple[str, ...]:
    """Engine patterns of a gated kind: one of its words near the value.

    A word within the window before the value or, when `after`, within the window after it.

    The gaps are twice the rules' character windows, in bytes for 8-bit text (UTF-8 may take two
    bytes a character) and in two-byte units for UTF-16, so the engine reports a superset of what
    the rules accept, and the rules decide. The UTF-16 gaps equal the 8-bit ones in characters,
    so UTF-16 text matched through its narrow view (`scanners.engines.hyperscan`) gives the same
    candidates either way.
    """
    gate = kind.gate
    assert gate is not None
    unit = 2 if wide else 1
    words = sorted(set(gate.words), key=lambda w: (-len(w), w))  # the same in every process
    alternation = "(?:" + "|".join(_keyword(w, wide) for w in words) + ")"
    core = utf16(kind.core) if wide else kind.core
    tail = utf16(kind.after_16 or kind.after) if wide else kind.after
    sources = [rf"{alternation}[\x00-\xff]{{0,{gate.before * 2 * unit}}}{core}{tail}"]
    if gate.after:
        sources.append(rf"{core}[\x00-\xff]{{0,{gate.after * 2 * unit}}}{alternation}")
    return tuple(sources)


# Order matters: at one start position the first kind that accepts the candidate wins (a bare
# ten-digit run is a personnummer with context before it is a phone number).
KINDS: tuple[Kind, ...] = (
    # A personnummer, card or phone number glued to a following letter is part of a longer token
    # (a hex digest, an id such as SAN-20261127-6722c15783), not a value of its own.
    Kind(
        "pnr_form",
        r"(?:(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}|[0-9]{12})",
        "0-9",
        _tail("0-9A-Za-z"),
    ),
    Kind(
        "dig10",
        r"[0-9]{10}",
        "0-9",
        _tail("0-9A-Za-z"),
        gate=Gate(_words("personnummer", "organisationsnummer")),
    ),
    Kind(
        "card",
        r"(?:[0-9]{13,19}|[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}"
        r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}|[0-9]{4}[ -][0-9]{5}[ -][0-9]{6})",
        "0-9",
        _tail("0-9A-Za-z"),
    ),
    Kind(
        "phone_intl",
        # `(0)` or an area code in parentheses after the country code: `+46 (8) 123 456 78`.
        r"(?:\+|00)[1-9][0-9]{0,2}[ -]?(?:\((?:0|0?[1-9][0-9]{0,3})\)[ -]?)?"
        r"[0-9](?:[ -]?[0-9]){5,13}",
        "0-9+",
        _tail("0-9A-Za-z"),
        lead_in_pattern=True,
    ),
    Kind(
        "phone_nat",
        r"(?:0[1-9](?:[ -]?[0-9]){6,9}|\(0[1-9][0-9]{0,2}\) ?[0-9](?:[ -]?[0-9]){4,7})",
        "0-9",
        _tail("0-9A-Za-z"),
        lead_in_pattern=True,
    ),
    Kind(
        "iban",
        _IBAN_COUNTRY + r"[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?",
        "A-Za-z0-9",
        _tail("A-Za-z0-9"),
        trigger=_IBAN_COUNTRY + r"[0-9]{2}[ -]?[A-Z0-9]{4}[ -]?[A-Z0-9]{4}",
    ),
    Kind("vat", r"SE ?[0-9]{10}01", "A-Za-z0-9", _tail("0-9")),
    # The core starts one character before the @; rules.py extends the local part backwards.
    # Bytes 0x80 and up are UTF-8 letters of local parts and IDN domains (`räksmörgås.se`);
    # the top-level domain is ASCII letters or punycode (`xn--p1ai`).
    Kind(
        "email",
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\xff-]@[A-Za-z0-9\x80-\xff-]+"
        r"(?:\.[A-Za-z0-9\x80-\xff-]+)*\.(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]+)",
        "",
        _tail("A-Za-z0-9-"),
    ),
    Kind("ipv4", r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", "0-9.", _tail("0-9")),
    # Eight groups, or fewer with `::`: a clock time (`00:00:00`), a MAC address or a hex
    # queue id with a colon is no candidate. An IPv4-mapped address ends in a dotted quad.
    Kind(
        "ipv6",
        rf"(?:{_GROUP}(?::{_GROUP}){{7}}|{_GROUPS}::{_GROUPS})"
        r"(?:(?:\.[0-9]{1,3}){3})?",
        "0-9A-Za-z:",
        _tail("0-9A-Za-z:"),
        # The engines look for the `::` or the eighth group only: the full pattern is too large
        # for hyperscan with start of match.
        trigger=rf"(?:(?:{_GROUP}:){{1,7}}:|::{_HEX}|(?:{_GROUP}:){{7}}{_HEX})",
    ),
    Kind(
        "postal",
        r"[1-9][0-9]{2} ?[0-9]{2}",
        "0-9",
        rf"[ ,;\t]{{1,3}}{_UPPER_8}",
        rf"[ ,;\t]{{1,3}}{_UPPER_16}",
        # rules.postal_address wants a street line ending at most 8 characters before.
        gate=Gate((*STREET_SUFFIXES, "box", "c/o"), before=24, after=0),
    ),
    Kind(
        "bankgiro",
        r"[0-9]{3,4}-[0-9]{4}",
        "0-9",
        _tail("0-9"),
        gate=Gate(_words("bankgiro")),
    ),
    Kind(
        "plusgiro",
        r"(?:[0-9]{1,7}|[0-9]{1,2}(?: [0-9]{2}){1,3})-[0-9]",
        "0-9",
        _tail("0-9"),
        gate=Gate(_words("plusgiro")),
    ),
)

_ATOM = re.compile(
    r"\[\^(?P<neg>(?:\\.|[^\]])+)\]"  # negated class
    r"|(?P<cls>\[(?:\\.|[^\]])+\])"  # class
    r"|(?P<esc>\\x[0-9a-fA-F]{2}|\\[^x])"  # escape
    r"|(?P<quant>\{[0-9,]+\}|[?*+])"  # quantifier
    r"|(?P<group>\(\?:|[()|$^])"  # structure
    r"|(?P<lit>.)",  # literal character
    re.DOTALL,
)


def utf16(pattern: str) -> str:
    """The UTF-16LE form of an ASCII/Latin-1 `pattern`: each character becomes two bytes.

    A negated class matches any code unit outside it, including every non-Latin-1 unit.
    """
    out = []
    for m in _ATOM.finditer(pattern):
        if m.group("neg") is not None:
            out.append(rf"(?:[^{m.group('neg')}]\x00|[\x00-\xff][^\x00])")
        elif m.group("quant") is not None or m.group("group") is not None:
            out.append(m.group(0))
        else:
            out.append(rf"(?:{m.group(0)}\x00)")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Compiled:
    """One kind in one encoding: `source` for the engines, `lead_source` for Python `re`."""

    kind: Kind
    wide: bool  # UTF-16LE
    sources: tuple[str, ...]  # hyperscan patterns (bytes regexes), starting at or before a value
    plain_sources: tuple[str, ...]  # for re2: without `lead_in_pattern`, starting at the value
    re_sources: tuple[str, ...]  # for Python `re`: with a look-behind for `lead`
    value_source: str  # the value and what must follow it, starting at the value
    core: re.Pattern[bytes]  # the core, anchored by `match` at a candidate start
    lead: re.Pattern[bytes] | None  # matches the unit before a start that rules it out


def compile_kinds(kinds: tuple[Kind, ...] = KINDS) -> list[Compiled]:
    """Every kind in its 8-bit and UTF-16LE forms, in `kinds` order, 8-bit first."""
    out = []
    for wide in (False, True):
        for k in kinds:
            core = utf16(k.core) if wide else k.core
            after = utf16(k.after_16 or k.after) if wide else k.after
            if k.lead:
                lead_src = rf"[{k.lead}]\x00" if wide else rf"[{k.lead}]"
                behind = rf"(?<!{lead_src})"
                lead = re.compile(lead_src.encode("latin-1"), re.DOTALL)
            else:
                behind, lead = "", None
            if k.gate:
                sources = plain_sources = _gate_sources(k, wide)
                # Python `re` tries every start: the value-first pattern needs its look-behind.
                re_sources = (sources[0], *(f"{behind}{x}" for x in sources[1:]))
            else:
                source = k.trigger or f"{k.core}{k.after}"
                if wide:
                    source = utf16(k.trigger) if k.trigger else f"{core}{after}"
                re_sources = (f"{behind}{source}",)
                plain_sources = (source,)
                if k.lead_in_pattern:
                    lead_class = utf16(f"[^{k.lead}]") if wide else f"[^{k.lead}]"
                    source = f"(?:^|{lead_class}){source}"
                sources = (source,)
            out.append(
                Compiled(
                    kind=k,
                    wide=wide,
                    sources=sources,
                    plain_sources=plain_sources,
                    re_sources=re_sources,
                    value_source=f"{core}{after}",
                    core=re.compile(f"{core}(?={after})".encode("latin-1"), re.DOTALL),
                    lead=lead,
                )
            )
    return out
