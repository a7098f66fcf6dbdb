"""Context words near a candidate, matched as plain words: no lemmas, no spaCy.

A blank spaCy pipeline has no lemmatizer, so Presidio's own context enhancer sees nothing; and the
raw fast path has no tokens at all. Both paths therefore look for keywords in a window of text
around the candidate (`BEFORE` characters before it, `AFTER` after it), case-insensitively, with
word edges so that "tel" does not fire inside "hotell". Keywords are given in Swedish and English;
UTF-8 text decoded as Latin-1 (as the raw path may do) is covered by adding the mis-decoded form.

Negative words (order, faktura, ...) right before a number, in the same clause, say that it is a
reference number, which vetoes the weak personnummer forms (see `vetoed` and `scanners.rules`).
"""

from __future__ import annotations

import re
import struct

from scanners.hot import compiled as _hot

BEFORE = 48
AFTER = 24
NEGATIVE_WINDOW = 24

KEYWORDS: dict[str, tuple[str, ...]] = {
    "personnummer": (
        "personnummer", "personnumret", "personnr", "pers.nr", "pers nr", "persnr", "pnr",
        "p-nr", "p.nr", "samordningsnummer", "samordningsnr", "födelsenummer", "personid",
        "person-id", "ssn", "personal identity number", "personal number", "swedish id",
        "social security", "civic registration", "id-nummer", "id-nr",
    ),
    "organisationsnummer": (
        "organisationsnummer", "organisationsnr", "org.nr", "org nr", "org. nr", "orgnr",
        "org-nr", "org.-nr", "corporate identity", "company registration", "registration number",
        "company number", "reg.nr", "momsreg", "vat",
    ),
    "phone": (
        "telefon", "telefonnummer", "tel", "tfn", "mobil", "mobilnummer", "mobiltelefon", "phone",
        "mobile", "cell", "fax", "växel", "sms", "ring", "call",
    ),
    "payment_card": (
        "kort", "kortnummer", "kreditkort", "betalkort", "card", "credit card", "visa",
        "mastercard", "amex", "maestro", "cvc", "cvv", "giltigt till", "expiry",
    ),
    "bankgiro": ("bankgiro", "bankgironummer", "bg", "bg-nr", "bg nr", "bankgiro nr"),
    "plusgiro": ("plusgiro", "plusgironummer", "postgiro", "pg", "pg-nr", "pg nr"),
    "ip_address": (
        "ip", "ip-adress", "ipv4", "ipv6", "address", "adress", "host", "server", "client",
        "klient", "from", "remote", "src", "dst", "gateway", "dns",
    ),
    "negative": (
        "order", "ordernr", "ordernummer", "order no", "faktura", "fakturanr", "fakturanummer",
        "invoice", "ocr", "referens", "ref", "artikel", "artikelnr", "art.nr", "ärende",
        "ärendenr", "serienummer", "serial", "version", "ver", "build", "isbn", "ean",
        "kvitto", "receipt", "transaktion", "transaction", "sku", "lot", "batch",
    ),
}  # fmt: skip


def _mojibake(word: str) -> str:
    return word.encode("utf-8").decode("latin-1")


def _trie(words: list[str]) -> str:
    """One regex alternation of `words` as a prefix tree, so each position tries one branch."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else body + "?"

    return emit(root)


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    forms = _forms(words)
    # Word edges that know Swedish letters, whatever the decoding. Windows are lower-cased
    # before the search: much faster than IGNORECASE over a long alternation. The edge before a
    # word is a character rather than a look-behind (which would be tried at every position):
    # windows get a leading space, so a word at the start of a window still counts.
    return re.compile(rf"[^a-zåäöéü0-9](?:{_trie(forms)})(?![a-zåäöéü])")


def _forms(words: tuple[str, ...]) -> list[str]:
    return sorted({f.lower() for w in words for f in (w, _mojibake(w))})


def _table(words: tuple[str, ...]) -> bytes:
    """`words` as `scanners._hot.keywords_in` reads them.

    256 slots, one per first character: the index of its first entry and the number of its
    entries (two little-endian uint16); a 32-byte bitmap of the first characters that have
    entries (bit c % 8 of byte c // 8); then one 64-byte entry per word form, grouped by first
    character: its length, then its Latin-1 bytes.
    """
    slots = [[0, 0] for _ in range(256)]
    entries = bytearray()
    for k, form in enumerate(sorted(_forms(words))):  # by first character
        raw = form.encode("latin-1")
        if len(raw) >= 64:
            raise ValueError(f"keyword too long for the table: {form!r}")
        slot = slots[raw[0]]
        if not slot[1]:
            slot[0] = k
        slot[1] += 1
        entries += bytes((len(raw),)) + raw.ljust(63, b"\x00")
    firsts = bytearray(32)
    for c, (_, count) in enumerate(slots):
        if count:
            firsts[c // 8] |= 1 << c % 8
    head = b"".join(struct.pack("<HH", *slot) for slot in slots)
    return head + bytes(firsts) + bytes(entries)


_PATTERNS = {category: _pattern(words) for category, words in KEYWORDS.items()}
_TABLES = {category: _table(words) for category, words in KEYWORDS.items()}


def keyword_table(category: str) -> bytes:
    """The words of `category` as `scanners._hot` reads them (see `_table`)."""
    return _TABLES[category]


# Which part of a window counts (`has_word`): all of it, its first clause, or its last.
WHOLE, FIRST_CLAUSE, LAST_CLAUSE = 0, 1, -1


def has_word(category: str, text: str, clause: int = WHOLE) -> bool:
    """Whether a keyword of `category` stands in `text`, or in its first or last clause.

    `_PATTERNS` say what counts; `scanners._hot.keywords_in` answers in C where built.
    """
    if _hot is not None:
        found = _hot.keywords_in(_TABLES[category], text, clause)
        if found is not None:
            return found
    return has_word_py(category, text, clause)


def has_word_py(category: str, text: str, clause: int = WHOLE) -> bool:
    """`has_word` by the regular expressions."""
    if clause == FIRST_CLAUSE:
        end = _CLAUSE_END.search(text)
        text = text[: end.start()] if end else text
    elif clause == LAST_CLAUSE:
        last = _CLAUSE_END_REVERSED.search(text[::-1])  # the clause end nearest the candidate
        text = text[len(text) - last.start() :] if last else text
    return _PATTERNS[category].search(" " + text.lower()) is not None


_CLAUSE_END = re.compile(r"(?:[.;!?]\s|\n|\t)")
_CLAUSE_END_REVERSED = re.compile(r"(?:\s[.;!?]|\n|\t)")


def near(category: str, before: str, after: str = "") -> bool:
    """True when a keyword of `category` is in the window around a candidate.

    Before it: the last `BEFORE` characters, across lines ("Personnummer:\n..."). After it: up
    to `AFTER` characters of the same clause ("811218-9876 (personnummer)").
    """
    if has_word(category, before[-BEFORE:]):
        return True
    return bool(after) and has_word(category, after[:AFTER], FIRST_CLAUSE)


def vetoed(before: str) -> bool:
    """True when a reference word (order, faktura, ...) stands right before the candidate.

    Only the last `NEGATIVE_WINDOW` characters of the same clause count: "Fakturanummer 123."
    in the previous sentence says nothing about the number that follows it.
    """
    return has_word("negative", before[-NEGATIVE_WINDOW:], LAST_CLAUSE)


def boosted(confidence: float) -> float:
    """A confidence raised towards 1 by a context word near the value; at most 0.99."""
    return min(0.99, confidence + (1 - confidence) * 0.75)


def boost(confidence: float, category: str, before: str, after: str = "") -> float:
    """`confidence` raised (`boosted`) when a keyword of `category` is near."""
    return boosted(confidence) if near(category, before, after) else confidence


# A UTF-8 sequence of two or three bytes as the raw path sees it (decoded as Latin-1).
_UTF8_SEQUENCE = re.compile(r"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# A byte 0x7F-0xFF, or a run of one such byte (a marker such as NTFS's 0xFFFFFFFF counts once).
_HIGH = re.compile(r"([\x7f-\xff])\1*")
TEXT_WINDOW = 24


def _letter_bytes(window: str) -> int:
    """Characters of `window` in UTF-8 sequences (seen through Latin-1) that spell letters."""
    count = 0
    for m in _UTF8_SEQUENCE.finditer(window):
        if m.group(0).encode("latin-1").decode("utf-8", "replace").isalpha():
            count += len(m.group(0))
    return count


def high_letters_py(window: str) -> tuple[int, int]:
    """(runs of one byte 0x7F-0xFF, `_letter_bytes`) of `window`."""
    return sum(1 for _ in _HIGH.finditer(window)), _letter_bytes(window)


def _high_letters(window: str) -> tuple[int, int]:
    """`high_letters_py`, in C (`scanners._hot.high_letters`) for a str of Latin-1 characters."""
    if _hot is not None:
        counts = _hot.high_letters(window)
        if counts is not None:
            return counts
    return high_letters_py(window)


def _text_side(window: str, edge: str) -> bool:
    """Few bytes 0x7F-0xFF in `window`, and none at `edge` (the character next to the value).

    At most one character in eight may be such a byte (a run of one byte counts once) that is
    not part of a UTF-8 letter.
    """
    if window.isascii():
        return True
    high, letters = _high_letters(window)
    if not high:
        return True  # characters beyond Latin-1: decoded text
    high -= letters
    return high * 8 <= len(window) and not ("\x7f" <= edge <= "\xff" and high)


def textual(before: str, after: str) -> bool:
    """True when a value stands among text or structured data, not among random bytes.

    Random bytes (an AES-CTR wipe pattern, encrypted or compressed data) hold e-mail-, IP- and
    giro-shaped runs by chance, about fifty per GiB; half of the bytes around them are 0x80-0xFF.
    Text, strings in programs and records of a database (SQLite puts small integers between
    columns) have few such bytes, except UTF-8 letters. `TEXT_WINDOW` characters are looked at
    on each side: with at most one in eight such bytes, random bytes pass about once in 10^5.
    """
    b, a = before[-TEXT_WINDOW:], after[:TEXT_WINDOW]
    before_ok = _text_side(b, b[-1:]) or _ADJACENT.fullmatch(b[-ADJACENT_RUN:]) is not None
    if before_ok and (_text_side(a, a[:1]) or _ADJACENT.match(a) is not None):
        return True
    # A file's last line is followed by its slack, which on FAT and NTFS keeps whatever the
    # sector held before (random bytes, for a drive once encrypted); its first line follows
    # another file's tail. One side of plain text is then enough.
    return _plain_text(b[-PLAIN_RUN:]) or _plain_text(a[:PLAIN_RUN])


# Printable text right next to the value. A file's first line sits at the start of its block,
# after whatever the block before holds (an inode table, another file's binary tail): the
# window reaches into those bytes, the words next to the value do not. Eight printable bytes
# in a row occur by chance in random bytes about once in 2,200 (98 of 256 byte values).
ADJACENT_RUN = 8
_ADJACENT = re.compile(rf"[\t\n\r\x20-\x7e]{{{ADJACENT_RUN}}}")

# Characters of plain text next to a value that make it text whatever lies on its other side:
# printable ASCII and UTF-8 letters, no control byte. Random bytes give such a run about once
# in 5 million places ((98/256)^16; UTF-8 letters add little); the noise bench
# counts 0 findings per GiB of AES-CTR, /dev/urandom and tar.xz either way.
PLAIN_RUN = 16
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(window: str) -> bool:
    if len(window) < PLAIN_RUN or _CONTROL.search(window):
        return False
    if window.isascii():
        return True
    high = sum(1 for ch in window if ch >= "\x80")
    return high == _high_letters(window)[1]
