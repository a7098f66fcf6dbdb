"""Confirming one candidate of the raw fast path: decode, run its rule, map the span to bytes.

The engine says where a value of some kind may start; `Plan.confirm` re-matches the kind's core
there (for its end), checks the boundary before it, decodes the core and a context window on each
side, and lets the kind's rule in `scanners.rules` decide. The decision's character span is mapped
back to byte offsets. This runs once per candidate, so each kind's plan is prepared once.

Personnummer and organisationsnummer forms, e-mail and IPv4 addresses, Swedish phone numbers,
payment cards, IBANs, bankgiro numbers and bare ten-digit numbers in 8-bit text, most of a drive's
values, are confirmed in C (`scanners._hot.confirm_pnr`, `confirm_email`, `confirm_ipv4`,
`confirm_phone`, `confirm_card`, `confirm_iban`, `confirm_bankgiro`, `confirm_dig10`, in
`_confirm.c`): the same decisions, several times faster; the C code hands the cases it does not
read itself (UTF-8 and IDN addresses, sector boundaries) back to `Plan.confirm_py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from scanners import context
from scanners.hot import compiled
from scanners.identifiers import card, iban, phone
from scanners.rules import RULE_AFTER, RULE_BEFORE, RULES

if TYPE_CHECKING:
    from scanners.patterns import Compiled

# category, confidence, normalized value, and the byte offsets of the value
Hit = tuple[str, float, str, int, int]
Confirm = Callable[..., "Hit | None"]  # (buffer, start, origin) -> Hit | None
log = logging.getLogger(__name__)
SECTOR = 512  # file data starts at a multiple of this on every file system (and partition)


class _InC(NamedTuple):
    """How a kind is confirmed in C (8-bit text).

    The C function, the category of the context words it looks for, and its rule's base
    confidences (each followed by its boosted value in the set-up); a second category of words
    and its confidences, which follow the first ones; the kind's Python check and its table
    (cached by its maker; ValueError where the library's data cannot be read into one, and the
    C code then asks the Python check or rule).
    """

    function: str
    words: str | None  # None: the rule reads no words
    bases: tuple[float, ...]
    more_words: str | None = None
    more_bases: tuple[float, ...] = ()
    check: Callable[[str], object] | None = None
    table: Callable[[], bytes] | None = None


# Personnummer forms: 12 digits (rules.dig12), 11 characters (rules.num_sep, weak) and 13
# (rules.num_sep, with century), then the organisationsnummer readings of the three. Cards:
# bare digits, then grouped.
_IN_C = {
    "pnr_form": _InC(
        "confirm_pnr", "personnummer", (0.9, 0.85, 0.95), "organisationsnummer", (0.75, 0.7, 0.8)
    ),
    "email": _InC("confirm_email", "personnummer", ()),
    "ipv4": _InC("confirm_ipv4", "ip_address", (0.6,)),
    "phone_nat": _InC(
        "confirm_phone",
        "phone",
        (0.5, 0.65),
        check=phone.national_number_match,
        table=phone.national_table,
    ),
    "card": _InC("confirm_card", "payment_card", (0.7, 0.85), table=card.length_masks),
    "iban": _InC("confirm_iban", None, (), check=iban.national_ok, table=iban.structure_table),
    "bankgiro": _InC("confirm_bankgiro", "bankgiro", (0.9,)),
    "dig10": _InC("confirm_dig10", "personnummer", (0.8,), "organisationsnummer", (0.8,)),
}


def _no_check(value: str) -> None:
    raise AssertionError("this kind's C confirmation has no Python check")


def _pack(bases: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(conf for base in bases for conf in (base, context.boosted(base)))


# The windows the C confirmations are written for (`scanners/_hot.h`), from their Python owners.
C_WINDOWS = {
    "RULE_BEFORE": RULE_BEFORE,
    "RULE_AFTER": RULE_AFTER,
    "BEFORE": context.BEFORE,
    "AFTER": context.AFTER,
    "NEGATIVE_WINDOW": context.NEGATIVE_WINDOW,
    "TEXT_WINDOW": context.TEXT_WINDOW,
    "PLAIN_RUN": context.PLAIN_RUN,
    "SECTOR": SECTOR,
    "ADJACENT": context.ADJACENT_RUN,
}


def _is_text(raw: bytes | memoryview) -> bool:
    """Printable UTF-8 text (tabs and line ends included), or nothing."""
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError:
        return False
    return text.isprintable() or all(ch.isprintable() or ch in "\t\n\r" for ch in text)


def _decode(raw: bytes, wide: bool) -> tuple[str, str]:
    """The text of `raw` and the codec that gives back its exact byte length.

    8-bit text is UTF-8 when it decodes as such (a sequence cut at the end of the window is
    dropped), else Latin-1.
    """
    if wide:
        return raw.decode("utf-16-le", "surrogatepass"), "utf-16-le"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data":
            try:
                return raw[: e.start].decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        return raw.decode("latin-1"), "latin-1"


def _size(text: str, enc: str) -> int:
    return len(text.encode(enc, "surrogatepass" if enc == "utf-16-le" else "replace"))


class Plan:
    """How to confirm candidates of one compiled kind (one kind in one encoding)."""

    __slots__ = ("_core", "_lead", "_rule", "_unit", "_wide", "_latin1", "confirm", "direct")

    def __init__(self, c: Compiled) -> None:
        self._core = c.core.match
        # The bytes (the low byte of a UTF-16 unit) that may not stand right before a value:
        # a set lookup instead of a regex match per candidate.
        lead = c.lead
        self._lead = frozenset(b for b in range(256) if lead and lead.match(bytes((b, 0))))
        self._rule = RULES[c.kind.name]
        self._wide = c.wide
        self._unit = 2 if c.wide else 1
        # ASCII values: decode as Latin-1, one character per byte, so spans need no mapping
        # (context keywords are also listed in their UTF-8-read-as-Latin-1 form). Postal
        # addresses need the real letters of the street and place names around them.
        self._latin1 = not c.wide and c.kind.name != "postal"
        # confirm(buf, start, origin) -> Hit | None: in C for the kinds it has, else Python.
        # `direct`: the C rule's (set-up, number in `RULES`), which `_hot.confirm_all` judges
        # without a call and a tuple a candidate.
        self.direct: tuple[object, int] | None = None
        self.confirm = self.in_c(c.kind.name, self.confirm_py) if not c.wide else None
        if self.confirm is None:
            self.confirm = self.confirm_py

    def in_c(self, kind: str, fallback: Confirm) -> Confirm | None:
        """The C confirmation of `kind` (8-bit text), which hands what it does not read on.

        `fallback` gets those candidates. None where there is no C confirmation, or where its
        windows are not the Python rules' own.
        """
        in_c = _IN_C.get(kind)
        if in_c is None or compiled is None or compiled.CONFIRM_WINDOWS != C_WINDOWS:
            return None
        try:
            table = in_c.table() if in_c.table is not None else b""
        except ValueError as e:  # the library's data changed shape: C hands the rule to Python
            log.warning("no C table for %s (%s); its rule asks Python", kind, e)
            table = b""
        setup = compiled.confirm_setup(
            bytes(b in self._lead for b in range(256)),
            context.keyword_table(in_c.words) if in_c.words else b"",
            context.keyword_table("negative"),
            _pack(in_c.bases) + _pack(in_c.more_bases),
            fallback,
            in_c.check or _no_check,
            context.keyword_table(in_c.more_words) if in_c.more_words else b"",
            table,
        )
        self.direct = (setup, compiled.RULES.index(in_c.function))
        return partial(getattr(compiled, in_c.function), setup)

    def confirm_py(
        self, buf: bytes | memoryview, start: int, origin: int | None = None
    ) -> Hit | None:
        """The rule's decision on the candidate at `start`, or None.

        `origin` is the device offset of `buf[0]` (raw pass). A file's data begins at a sector
        boundary, after whatever the sector before holds (another file's binary tail): a value
        on the first line after a boundary (only text between) that its rule rejected is judged
        again with its left context cut at the boundary, as the file pass sees a file's start.
        """
        m = self._core(buf, start)
        if m is None:
            return None
        unit = self._unit
        # The unit before the value continues it (for UTF-16: its low byte, high byte 0).
        if start >= unit and buf[start - unit] in self._lead and (unit == 1 or not buf[start - 1]):
            return None
        end = m.end()
        hit = self._judge(buf, start, end, 0)
        if hit is None and origin is not None and unit == 1:
            into = (origin + start) % SECTOR
            if into <= start and into < RULE_BEFORE and _is_text(buf[start - into : start]):
                hit = self._judge(buf, start, end, start - into)
        return hit

    def _judge(self, buf: bytes | memoryview, start: int, end: int, floor: int) -> Hit | None:
        """The rule's decision with the left context starting no earlier than `floor`."""
        if not self._wide:  # one decoding of the value and both windows
            lo = max(floor, start - RULE_BEFORE)
            window = buf[lo : end + RULE_AFTER]
            if not self._latin1:
                # Postal addresses read UTF-8 letters, so bytes above ASCII take `_decoded`;
                # an ASCII window reads the same either way (7 us a value against 2 here).
                window = bytes(window)
                if not window.isascii():
                    return self._decoded(buf, start, end, floor)
            text = str(window, "latin-1")
            core_at, core_end = start - lo, end - lo
            d = self._rule(text[core_at:core_end], text[:core_at], text[core_end:])
            if d is None:
                return None
            return d.category, d.confidence, d.normalized, start + d.start, start + d.stop
        return self._decoded(buf, start, end, floor)

    def _decoded(self, buf: bytes | memoryview, start: int, end: int, floor: int = 0) -> Hit | None:
        """UTF-16LE, or 8-bit text read as UTF-8 where it is valid UTF-8."""
        wide, unit = self._wide, self._unit
        lo = max(start - RULE_BEFORE * unit, start % unit if wide else 0, floor)
        before_raw = bytes(buf[lo:start])
        if not wide:  # do not start decoding inside a UTF-8 sequence
            skip = 0
            while skip < len(before_raw) and 0x80 <= before_raw[skip] <= 0xBF and skip < 3:
                skip += 1
            before_raw = before_raw[skip:]
        core, codec = _decode(bytes(buf[start:end]), wide)
        before, before_codec = _decode(before_raw, wide)
        after_raw = bytes(buf[end : end + RULE_AFTER * unit])
        after, after_codec = _decode(after_raw[: len(after_raw) & ~1] if wide else after_raw, wide)
        d = self._rule(core, before, after)
        if d is None:
            return None
        if d.start == 0 and d.stop == len(core):  # the whole core: its bytes, no re-encoding
            return d.category, d.confidence, d.normalized, start, end
        if d.start < 0:
            begin = start - _size(before[len(before) + d.start :], before_codec)
        else:
            begin = start + _size(core[: d.start], codec)
        if d.stop <= len(core):
            stop = start + _size(core[: d.stop], codec)
        else:
            stop = start + _size(core, codec) + _size(after[: d.stop - len(core)], after_codec)
        return d.category, d.confidence, d.normalized, begin, stop
