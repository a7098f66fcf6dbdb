"""What a candidate is: validation, ambiguity and confidence, shared by the raw and text paths.

A rule gets the candidate's text (`core`, as the pattern in `scanners.patterns` matched it) and the
text before and after it, and returns a `Decision` or None. Both detectors call the same rules, so
one value gets the same category, confidence and normalized form (and so the same digest) whether
it is found in raw bytes or in document text.

The ambiguous ten-digit rule (issue 3, part 5): `YYMMDDNNNC` without separator passes date + Luhn
for about 0.7 % of random ten-digit runs, and Swedish mobile numbers (`0701234567`) are ten digits
too. Such a bare run is a personnummer (or samordningsnummer) only when a personnummer keyword is
within the context window (`scanners.context`), an organisationsnummer only beside an org keyword,
and otherwise it is left to the phone rule (valid Swedish number with a leading 0) or dropped.
Structured forms need no context: `YYMMDD-NNNC`, `YYMMDD+NNNC` and the 12-digit forms whose century
is 18, 19 or 20. A reference word (order, faktura, invoice, ...) near a personnummer-shaped number
and no personnummer word vetoes it, since order numbers are often date-based.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise
from typing import NamedTuple

from scanners import context
from scanners.identifiers import card, email, giro, iban, ip, orgnr, personnummer, phone, postal

# Characters of text every rule is given before and after its candidate. The raw path and the
# text path must pass the same windows, so that both reach the same decision on one value.
RULE_BEFORE, RULE_AFTER = 96, 64


class Decision(NamedTuple):
    """A validated value: its category and confidence, its normalized form, and its span.

    `start` and `stop` are character positions relative to the start of the candidate's core
    (negative `start` when the value begins before it, as an e-mail local part or a street does).
    A named tuple, not a frozen dataclass: one is built per candidate, at a third of the cost.
    """

    category: str
    confidence: float
    normalized: str
    start: int
    stop: int


Rule = Callable[[str, str, str], "Decision | None"]


def _pnr(core: str, before: str, after: str, base: float, weak: bool) -> Decision | None:
    found = personnummer.classify(core)
    if found is None:
        return None
    has_word = context.near("personnummer", before, after)
    if weak and not has_word and context.vetoed(before):
        return None
    conf = context.boosted(base) if has_word else base
    return Decision(found[0], conf, found[1], 0, len(core))


def _org(core: str, before: str, after: str, base: float) -> Decision | None:
    digits = orgnr.parse(core)
    if digits is None:
        return None
    conf = context.boost(base, "organisationsnummer", before, after)
    return Decision("organisationsnummer", conf, digits, 0, len(core))


def num_sep(core: str, before: str, after: str) -> Decision | None:
    """`YYMMDD-NNNC`, `YYMMDD+NNNC`, `YYYYMMDD-NNNC`, or an orgnr `NNNNNN-NNNC`."""
    if len(core) == 11:
        if core[2] >= "2":  # digits 3-4 are no month: an organisationsnummer, never a person
            return _org(core, before, after, 0.7) if core[6] == "-" else None
        return _pnr(core, before, after, 0.85, weak=True)
    return _pnr(core, before, after, 0.95, weak=False) or (
        _org(core, before, after, 0.8) if core.startswith("16") else None
    )


def dig12(core: str, before: str, after: str) -> Decision | None:
    """`YYYYMMDDNNNC` (century 18-20), or `16` + an organisationsnummer."""
    return _pnr(core, before, after, 0.9, weak=True) or (
        _org(core, before, after, 0.75) if core.startswith("16") else None
    )


def pnr_form(core: str, before: str, after: str) -> Decision | None:
    """A structured personnummer or organisationsnummer form: separator or twelve digits."""
    return dig12(core, before, after) if core.isdigit() else num_sep(core, before, after)


def dig10(core: str, before: str, after: str) -> Decision | None:
    """A bare ten-digit run: the ambiguous rule in the module docstring."""
    if context.near("personnummer", before, after):
        found = _pnr(core, before, after, 0.8, weak=False)
        if found:
            return found
    if context.near("organisationsnummer", before, after):
        return _org(core, before, after, 0.8)
    return None


def card_number(core: str, before: str, after: str) -> Decision | None:
    """13-19 digits, in groups or not, with Luhn and a card scheme's prefix."""
    digits = card.parse(core)
    if digits is None:
        return None
    base = 0.7 if len(digits) == len(core) else 0.85
    conf = context.boost(base, "payment_card", before, after)
    return Decision("payment_card", conf, digits, 0, len(core))


_PNR_SHAPE = re.compile(r"\d{6}[-+]\d{4}")


def phone_number(core: str, before: str, after: str) -> Decision | None:
    """A phone number libphonenumber calls valid (Swedish when it has no country code).

    Shapes that are also something else need a phone word: bare digits other than a Swedish
    mobile (`0701234567`), and the personnummer shape `NNNNNN-NNNN`. A number followed by a
    space and more digits (`070-123 45 67 1 st`) is the longest valid prefix that ends before
    a space.
    """
    if before[-1:] in (" ", "-") and before[-2:-1].isdecimal():
        return None  # the tail of a longer digit-group chain (card, account)
    e164 = phone.parse(core)
    stop = len(core)
    while e164 is None:
        stop = core.rfind(" ", 0, stop)
        if stop < 8:
            return None
        e164 = phone.parse(core[:stop])
    value = core[:stop]
    has_word = context.near("phone", before, after)
    bare = value.isdigit()
    if not has_word and (_PNR_SHAPE.fullmatch(value) or (bare and not phone.is_mobile_se(e164))):
        return None
    base = 0.5 if bare else 0.65
    conf = context.boosted(base) if has_word else base
    return Decision("phone", conf, e164, 0, stop)


_IBAN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def iban_number(core: str, before: str, after: str) -> Decision | None:
    """The longest prefix of the candidate that is a valid IBAN (a next word may have joined)."""
    ends = [i + 1 for i, ch in enumerate(core) if ch in _IBAN_CHARS]
    for stop in ends[:13:-1]:  # prefixes of at least 15 characters, longest first
        compact = iban.parse(core[:stop])
        if compact is not None:
            return Decision("iban", 0.95, compact, 0, stop)
    return None


def vat_number(core: str, before: str, after: str) -> Decision | None:
    """A Swedish VAT number `SE` + organisationsnummer + `01`."""
    return _org(core, before, after, 0.9)


# The local part before the candidate, matched on the reversed window (a search for the same
# class anchored at the end retries from every position, 6x slower). Characters 0x80 and up are
# UTF-8 bytes seen through Latin-1 (raw path) or letters of another script (text path).
_LOCAL_TAIL_REVERSED = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\x80-\U0010ffff-]{1,256}")
_LOCAL_CHAR = re.compile(r"[\w!#$%&'*+/=?^`{|}~.-]")


def _utf8(text: str) -> str | None:
    """`text` decoded as UTF-8 when it is UTF-8 read as Latin-1 (the raw path's view), else None."""
    if text.isascii() or max(text) > "\xff":
        return None
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return None


_LATIN1_HIGH = re.compile(r"[\x80-\xff]")


def _sparse_latin1(part: str) -> bool:
    """A word in Latin-1 text has a letter above ASCII here and there (`jörgen`, `räksmörgås`).

    Random bytes read as Latin-1 are half such letters (`àëôÇÄ@M9ÄÎ.Fv`); UTF-8 text that
    decoded as such is checked by its decoding instead.
    """
    high = [m.start() for m in _LATIN1_HIGH.finditer(part)]
    if not high:
        return True
    return len(high) * 3 <= len(part) and all(b - a > 1 for a, b in pairwise(high))


def email_address(core: str, before: str, after: str) -> Decision | None:
    """The candidate starts one character before the @: extend the local part backwards."""
    m = _LOCAL_TAIL_REVERSED.match(before[::-1])
    head = m.group(0)[::-1] if m else ""
    seen = head + core
    at = seen.rindex("@")
    # UTF-8 read as Latin-1 is decoded, so that `jörgen` is one local part, not `rgen`; a
    # sequence cut by the start of the window is dropped first.
    lead = 0
    while lead < 3 and lead < at and "\x80" <= seen[lead] <= "\xbf":
        lead += 1
    text = _utf8(seen[lead:])
    encoded = text is not None
    if text is None:
        text, lead = seen, 0
    local_at = text.rindex("@")
    if text.isascii():  # every character before the @ is a local-part character
        chars = min(local_at, 64)
    else:
        chars = octets = 0
        for ch in reversed(text[:local_at]):  # the longest tail of local-part characters
            octets += 1 if ch < "\x80" else len(ch.encode("utf-8"))
            if octets > 64 or _LOCAL_CHAR.fullmatch(ch) is None:
                break
            chars += 1
    local = text[local_at - chars : local_at].lstrip(".")
    value = local + text[local_at:]
    normalized = email.parse(value)
    if normalized is None:
        return None
    tld = value.rsplit(".", 1)[1]
    if not (tld.islower() or tld.isupper() or tld.istitle()):  # "Q@E.xR": random bytes
        return None
    if (
        not encoded
        and not value.isascii()
        and not all(map(_sparse_latin1, re.split(r"[@.]", value)))
    ):
        return None
    local_len = len(local.encode("utf-8")) if encoded else len(local)
    start = at - local_len - (len(seen) - len(core))
    if not context.textual(before[: len(before) + start], after):
        return None
    return Decision("email", 0.95, normalized, start, len(core))


def _printable(ch: str) -> bool:
    return not ch or ch.isprintable() or ch in "\t\r\n"


def ipv4_address(core: str, before: str, after: str) -> Decision | None:
    """A dotted quad in text that is not a version number (`1.2.3.4.5`, "version 1.2.3.4")."""
    if after[:1] == "." and after[1:2].isdigit():
        return None
    return _ip(core, before, after)


def ipv6_address(core: str, before: str, after: str) -> Decision | None:
    """An IPv6 address with at least two groups written (`fe80::1`, not `a::` or `::d`).

    An IPv4-mapped address (`::ffff:192.0.2.1`) counts its dotted quad as a group.
    """
    if len(core) < 6 or sum(1 for g in core.split(":") if g) < 2:
        return None
    return _ip(core, before, after)


def _ip(core: str, before: str, after: str) -> Decision | None:
    # A textual address stands among text (`context.textual`); one between binary bytes is
    # chance (random data holds about two dotted quads per MB), unless an IP word is near.
    textual = _printable(before[-1:]) and _printable(after[:1])
    if not context.textual(before, after) and not (
        textual and context.near("ip_address", before, after)
    ):
        return None
    value = ip.parse(core)
    if value is None or value.startswith("127.") or value == "::1":
        return None
    if context.vetoed(before) and not context.near("ip_address", before, after):
        return None
    conf = context.boost(0.6, "ip_address", before, after)
    return Decision("ip_address", conf, value, 0, len(core))


_CITY = re.compile(r"[ ,;\t]{1,3}([A-ZÅÄÖ][a-zåäöéü]+(?:[ -][A-ZÅÄÖ][a-zåäöéü]+)?)")


def postal_address(core: str, before: str, after: str) -> Decision | None:
    """A postnummer with a street line before it and a place name after it."""
    postnr = postal.parse(core)
    if postnr is None:
        return None
    street = postal.street_before(before[-80:])
    city = _CITY.match(after)
    if street is None or city is None:
        return None
    window = before[-80:]
    between = window[street.end() :]
    if len(between) > 8 or "\n" in between:  # the street must end right before the postnummer
        return None
    start = street.start() - len(window)
    normalized = f"{street.group(0).lower()}|{postnr}|{city.group(1).lower()}"
    return Decision("postal_address", 0.85, normalized, start, len(core) + city.end())


def bankgiro_number(core: str, before: str, after: str) -> Decision | None:
    """`NNN-NNNN` / `NNNN-NNNN` with Luhn, only beside a bankgiro word."""
    if not context.near("bankgiro", before, after) or not context.textual(before, after):
        return None
    digits = giro.parse_bankgiro(core)
    return Decision("bankgiro", 0.9, digits, 0, len(core)) if digits else None


def plusgiro_number(core: str, before: str, after: str) -> Decision | None:
    """`NN NN NN-C` with Luhn, only beside a plusgiro word."""
    if not context.near("plusgiro", before, after) or not context.textual(before, after):
        return None
    digits = giro.parse_plusgiro(core)
    return Decision("plusgiro", 0.9, digits, 0, len(core)) if digits else None


RULES: dict[str, Rule] = {
    "pnr_form": pnr_form,
    "dig10": dig10,
    "card": card_number,
    "phone_intl": phone_number,
    "phone_nat": phone_number,
    "iban": iban_number,
    "vat": vat_number,
    "email": email_address,
    "ipv4": ipv4_address,
    "ipv6": ipv6_address,
    "postal": postal_address,
    "bankgiro": bankgiro_number,
    "plusgiro": plusgiro_number,
}

# The categories each kind can produce, so a RawMatcher asked for some categories compiles only
# the kinds it needs.
PRODUCES: dict[str, frozenset[str]] = {
    "pnr_form": frozenset({"personnummer", "samordningsnummer", "organisationsnummer"}),
    "dig10": frozenset({"personnummer", "samordningsnummer", "organisationsnummer"}),
    "card": frozenset({"payment_card"}),
    "phone_intl": frozenset({"phone"}),
    "phone_nat": frozenset({"phone"}),
    "iban": frozenset({"iban"}),
    "vat": frozenset({"organisationsnummer"}),
    "email": frozenset({"email"}),
    "ipv4": frozenset({"ip_address"}),
    "ipv6": frozenset({"ip_address"}),
    "postal": frozenset({"postal_address"}),
    "bankgiro": frozenset({"bankgiro"}),
    "plusgiro": frozenset({"plusgiro"}),
}
