"""The hyperscan engine: every pattern in one block-mode database, scanned in C.

Hyperscan reports every match with its leftmost start (SOM). Where setup.py built
`scanners._hs` (the system's libhs, Debian's libhyperscan-dev), matches are collected in C and
handed back as one list; else the `hyperscan` binding calls Python for each (on 32 MB of
dense documents, a million matches: 0.39 us a match against 0.24, everything included). Both
compile the same patterns with the same flags;
tests/scanners/engines/test_libhs.py compares them. Two more things keep it fast:

- Compiled databases are cached per process by pattern set (compiling the full set takes about
  0.3 s, loading it 3 ms) and handed to raw-pass worker processes (`export`, `preload`).
- UTF-16LE text is matched through its 8-bit patterns. The UTF-16 patterns (each character a
  two-byte unit) run about 9 ms per MB of UTF-16 text, the 8-bit patterns over the text's
  "narrow" view (one byte per unit, `scanners.engines.utf16`) under 2 ms. A narrow view keeps the
  byte of every Latin-1 unit and turns every other unit into 0xFF, which, like those units, only
  a negated class or a gap matches: the 8-bit patterns match the view wherever the UTF-16
  patterns match the text, with the same starts. They may also match a little more (gate words
  in their UTF-8 spelling, wider gaps, the place-name letter after a postnummer); `Plan.confirm`
  re-matches every candidate with the UTF-16 core, so findings stay exactly the same. Buffers
  that hold little UTF-16 text keep the UTF-16 patterns, which cost almost nothing there.
- The 8-bit patterns of kinds that need no keyword (personnummer forms, cards, phones, IBAN,
  VAT, e-mail, IPv4, IPv6) cost three quarters of a scan over random bytes or text (about 4 s
  per GB of a drive's media files on this machine) yet match almost nowhere. They are matched
  only in the stretches where one can match (`scanners.hot.compiled.windows`, C): a
  run of seven or more digits, capitals and ` +().-` (every byte of those values is one, and
  each has seven or more), an `@` with a local-part byte before it and a domain run with a dot
  after it, or a run of hex digits and colons holding `::` or seven colons. Each stretch is the
  whole run and one byte either side, and the stretches are joined with one `\x01` between
  them, so every match lies in one stretch with the bytes around it that the pattern's
  boundaries check (`^` and `$` only where the buffer itself starts or ends), and reports the
  start it has in the whole buffer; tests compare both ways on random, textual and crafted
  buffers. The IPv6 and IBAN patterns have stretches of their own (the hex runs; the runs of
  the first class that hold two capitals and two digits): in text, where the other stretches
  are everywhere and the buffer is matched whole (past one stretch per `bytes_per_stretch`
  bytes), theirs stay rare, and these two patterns cost about 20 ms each of a 93 ms whole
  scan of 32 MB of dense text (measured by leaving each out of the database). So do
  international phone numbers (the runs of digits, space and `()+-` that hold seven digits):
  a mail log holds one such run every 500 bytes, where its clock times, queue ids and addresses
  fill the first list. These lists are joined, scanned and mapped back in C (`scanners._hs`).
  The starts of e-mail and IPv4 addresses, personnummer forms, card numbers and national phone
  numbers are found in their own stretches by C without hyperscan (`FOUND_IN_C`): tracking
  those patterns' starts cost hyperscan about 300 ns a match, most of a scan of text.
  The keyword patterns (a word, a gap, a value, or the other way round) are matched
  near the digits every gated value holds (five in a row, or digit, '-' or ' ', digit), with
  room for the word and the gap either side and stretches joined by more 0x01 bytes than a gap
  spans, so they report the same ends. The UTF-16 patterns run only around runs of three or
  more UTF-16LE units of Latin-1 text (every UTF-16 value is one), with room for a keyword and
  its gap (a UTF-16 pattern matches in either byte parity, so stretches need not keep theirs):
  8-bit text and media hold none.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import threading
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanners.arrays import np
from scanners.engines import utf16
from scanners.hot import PURE_ENV
from scanners.hot import compiled as _hot

if TYPE_CHECKING:
    from scanners.patterns import Compiled

log = logging.getLogger(__name__)


def _load_libhs() -> Any:
    """`scanners._hs` (libhs, matches collected in C) where setup.py built it, else None.

    None too with `ASSET_PIPELINE_PURE_PYTHON=1`: the `hyperscan` binding then scans.
    """
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        from scanners import _hs as module
    except ImportError:
        log.debug("scanners._hs is not built; the hyperscan binding scans")
        return None
    return module


_hs = _load_libhs()

# Serialized databases of this process by pattern set.
_DATABASES: dict[str, bytes] = {}
# Compiled databases are also kept on disk, so a new process (a station scanning its next
# drive, a `scan` command) loads in milliseconds what took 1.2 s to compile. The file is named
# by the SHA-256 of hyperscan's version and the patterns and holds the database's SHA-256 first:
# a stale, cut or foreign file is compiled afresh and replaced. Set to "" to keep none.
CACHE_ENV = "ASSET_PIPELINE_CACHE"


def _cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) / "hyperscan" if configured else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to be found: keep none
            return None
    return Path(base) / "asset-pipeline" / "hyperscan"


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else.

    A database the scanner loads decides what it can find: one that matches nothing, put in
    place of ours by another user, would make every scan report a clean drive. The SHA-256 in
    the file only catches a cut or damaged file, not a planted one.
    """
    st = path.stat()
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _read_cached(key: str) -> bytes | None:
    folder = _cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.hsdb"
    try:
        if not (_private(folder) and _private(path)):
            log.warning("hyperscan cache %s is writable by others: not used", folder)
            return None
        stored = path.read_bytes()
    except OSError:
        return None
    digest, blob = stored[:32], stored[32:]
    return blob if hashlib.sha256(blob).digest() == digest else None


def _write_cached(key: str, blob: bytes) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        part = folder / f".{key}.{os.getpid()}.{threading.get_ident()}"
        part.write_bytes(hashlib.sha256(blob).digest() + blob)
        part.replace(folder / f"{key}.hsdb")
    except OSError:  # a read-only home: compile in every process
        log.debug("hyperscan database cache not writable", exc_info=True)


def _cached(key: str, load: Callable[[bytes], Any], build: Callable[[], bytes]) -> Any:
    """`load` of the serialized database under `key`.

    From this process's databases, the disk cache, or `build` (then kept in both); a blob that
    `load` refuses (ValueError) is built afresh.
    """
    for read in (_DATABASES.get, _read_cached):
        blob = read(key)
        if blob is None:
            continue
        try:
            db = load(blob)
        except ValueError:  # built for another platform or version: compile afresh
            log.debug("cached hyperscan database unusable", exc_info=True)
            continue
        _DATABASES[key] = blob
        return db
    blob = build()
    _DATABASES[key] = blob
    _write_cached(key, blob)
    return load(blob)


def _database(patterns: list[tuple[str, int]], flags: list[int]) -> Any:
    """A block-mode database of (pattern, id) pairs for the `hyperscan` binding."""
    import hyperscan

    def load(blob: bytes) -> Any:
        try:
            return hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        except hyperscan.error as e:
            raise ValueError(str(e)) from e

    def build() -> bytes:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[s.encode("latin-1") for s, _ in patterns],
            ids=[i for _, i in patterns],
            elements=len(patterns),
            flags=flags,
        )
        return hyperscan.dumpb(db)

    key = hashlib.sha256(repr((hyperscan.__version__, patterns, flags)).encode()).hexdigest()
    return _cached(key, load, build)


def _libhs_database(patterns: list[tuple[str, int]], flags: list[int], ends: bytes) -> Any:
    """The same database through the system's libhs (`scanners._hs`), matches kept in C."""
    assert _hs is not None

    def build() -> bytes:
        return _hs.compile(
            [s.encode("latin-1") for s, _ in patterns], flags, [i for _, i in patterns]
        )

    key = hashlib.sha256(repr(("libhs", _hs.version(), patterns, flags)).encode()).hexdigest()
    return _cached(key, lambda blob: _hs.Database(blob, ends), build)


def packed(pairs: list[tuple[int, int]]) -> bytes:
    """(position, id) pairs as packed keys: native uint64, position << 8 | id.

    `scanners._hs` makes them so in C; `scanners._hot` orders and confirms them.
    """
    if any(ident > 255 or ident < 0 for _, ident in pairs):  # a key holds 8 bits of id
        raise ValueError("packed keys take ids 0-255")
    return array("Q", [position << 8 | ident for position, ident in pairs]).tobytes()


def export() -> dict[str, bytes]:
    """This process's compiled databases, for `preload` in a worker process."""
    return dict(_DATABASES)


def preload(databases: dict[str, bytes]) -> None:
    """Take compiled databases from `export` in another process, so matchers need not compile."""
    _DATABASES.update(databases)


def _flags(
    patterns: list[tuple[str, int]], ends: frozenset[int], dotall: int, som: int
) -> list[int]:
    """Each pattern's flags: its start tracked (leftmost), except for the ids in `ends`."""
    return [dotall if i in ends else dotall | som for _, i in patterns]


class _Database:
    """A compiled database and which of its ids report match ends.

    Scanned through `scanners._hs` (libhs, matches collected in C) where it is built, else
    through the `hyperscan` binding (`binding=True` asks for it), which calls Python for each
    match: 0.15 us more a match on dense documents.
    """

    def __init__(
        self, patterns: list[tuple[str, int]], ends: frozenset[int], *, binding: bool = False
    ) -> None:
        self.ends = ends
        self._libhs = None
        if _hs is not None and not binding:  # the binding is not even loaded
            top = max(i for _, i in patterns)
            mask = bytes(i in ends for i in range(top + 1))
            flags = _flags(patterns, ends, _hs.FLAG_DOTALL, _hs.FLAG_SOM_LEFTMOST)
            self._libhs = _libhs_database(patterns, flags, mask)
            return
        import hyperscan

        flags = _flags(patterns, ends, hyperscan.HS_FLAG_DOTALL, hyperscan.HS_FLAG_SOM_LEFTMOST)
        self.db = _database(patterns, flags)
        self.scratch = hyperscan.Scratch(self.db)

    def pairs(
        self, data: Any, scale: int = 1, shift: int = 0, ids: tuple[int, ...] | None = None
    ) -> list[tuple[int, int]]:
        """(position * scale + shift, id) for every match: its start, or its end for `ends`.

        `ids` maps the database's ids to the ones reported (default: as compiled).
        """
        if self._libhs is not None:
            return self._libhs.scan(data, scale, shift, ids)  # type: ignore[no-any-return]
        return self._binding_pairs(data, scale, shift, ids)

    @property
    def spans_in_c(self) -> bool:
        """Whether `span_keys` joins, scans and maps back in C (`scanners._hs`)."""
        return self._libhs is not None

    def span_keys(self, data: Any, spans: list[tuple[int, int]] | bytes, gap: int) -> bytes:
        """Packed keys of the matches in `spans` of `data`, each at its place in `data`.

        The spans are joined by `gap` bytes of 0x01 and scanned once (`scanners._hs`
        `scan_spans`; only where `spans_in_c`).
        """
        assert self._libhs is not None
        return self._libhs.scan_spans(data, spans, gap)  # type: ignore[no-any-return]

    def keys(self, data: Any) -> bytes:
        """`pairs(data)` as packed keys (`packed`): made in C by `scanners._hs`."""
        if self._libhs is not None:
            return self._libhs.scan(data, packed=True)  # type: ignore[no-any-return]
        return packed(self._binding_pairs(data))

    def _binding_pairs(
        self, data: Any, scale: int = 1, shift: int = 0, ids: tuple[int, ...] | None = None
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        add, ends = found.append, self.ends
        if not ends and scale == 1 and not shift and ids is None:
            # The common case (8-bit text, starts only), kept to a tuple and a call.
            def on_start(ident: int, start: int, end: int, flags: int, context: object) -> None:
                add((start, ident))

            handler = on_start
        else:

            def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
                at = (end if ident in ends else start) * scale + shift
                add((at, ident if ids is None else ids[ident]))

            handler = on_match
        # A scratch space per scan: RawMatcher may be shared by threads.
        self.db.scan(data, match_event_handler=handler, scratch=self.scratch.clone())
        return found


def _join(
    data: bytes | memoryview, spans: list[tuple[int, int]], gap: int, *, even: bool = False
) -> tuple[bytes, list[int]]:
    """The spans of `data` in one buffer, and where each span starts in it.

    `gap` bytes of 0x01 stand between spans (and before the first where `even` keeps each
    span's byte parity for UTF-16, adding a byte where needed). In C (`scanners._hot.join`)
    where built: a page of text has thousands of stretches, at about 2 us each here.
    """
    if _hot is not None:
        return _hot.join(data, spans, gap, even)
    return _join_py(data, spans, gap, even=even)


def _join_py(
    data: bytes | memoryview, spans: list[tuple[int, int]], gap: int, *, even: bool = False
) -> tuple[bytes, list[int]]:
    """`_join` in Python."""
    parts: list[bytes | memoryview] = []
    origins: list[int] = []
    size = 0
    view = memoryview(data)
    for lo, hi in spans:
        if parts or even:
            pad = gap + (1 if even and (size + gap - lo) % 2 else 0)
            parts.append(b"\x01" * pad)
            size += pad
        piece = view[lo:hi]
        parts.append(piece)
        origins.append(size)
        size += len(piece)
    return b"".join(parts), origins


def _wide_margin(compiled: list[Compiled]) -> int:
    """Bytes either side of a run of UTF-16 text that hold every UTF-16 match through it.

    A keyword-free match is its value (Latin-1 units, all in the run) with a unit before and
    after it; a gated match adds a keyword and a gap, which may hold any unit and so lie
    outside the run: the longest keyword, the widest gap and 64 bytes for a value's tail.
    """
    gated = [c for c in compiled if c.kind.gate]
    if not gated:
        return 8
    longest = max(len(w.encode("utf-16-le")) for c in gated for w in c.kind.gate.words)  # type: ignore[union-attr]
    gap = max(max(c.kind.gate.before, c.kind.gate.after) for c in gated)  # type: ignore[union-attr]
    return longest + 2 * 2 * gap + 64


def _gate_margin(compiled: list[Compiled]) -> int:
    """Bytes either side of a gated value's digits that hold every gate match through them.

    A match is a keyword, a gap of up to twice the rule's window and the value with the byte
    after it (or the value, the gap and the keyword); the digits lie inside the value, which
    with what follows it is at most 32 bytes (a plusgiro `12 34 56-7`, a postnummer and the
    place name's first letter).
    """
    if not compiled:
        return 0
    longest = max(len(w.encode("utf-8")) for c in compiled for w in c.kind.gate.words)  # type: ignore[union-attr]
    gap = max(max(c.kind.gate.before, c.kind.gate.after) for c in compiled)  # type: ignore[union-attr]
    return longest + 2 * gap + 32


# Kinds whose stretches `windows` lists apart (by index in its result): IPv6 addresses in the
# runs of hex digits and colons, IBANs in the runs that hold two capitals and two digits. In
# text the other kinds' stretches are everywhere and the buffer is matched whole, but these two
# kinds cost a good share of that (text is full of clock times and capitalised words) and their
# stretches stay rare.
#
# International phone numbers run in the runs of digits, space and ( ) + - that hold seven
# digits (the seventh list; `FOUND_IN_C` has the other kinds found there): text is full of the
# first list's stretches (a clock time, a capitalised word), but a mail log holds such a run
# every 500 bytes or so, documents one every 80 (a fifth of their bytes). The lists of
# these kinds come as bytes of pairs and are joined and scanned in C (`_Database.span_keys`),
# so they may hold far more stretches than the first (`own_bytes_per_stretch`): a mail log's
# queue ids fill the IBAN list with a run every 250 bytes (0.59 ns a byte matched whole, 0.17
# in its runs).
_OWN_STRETCHES = {
    "ipv6": 3,
    "iban": 4,
    "phone_intl": 6,
}
# Kinds whose starts C finds in their own list of `windows` without hyperscan (by list, and the
# `scanners._hot` function): e-mail addresses at every '@' (no list: a list of '@' stretches
# walked each address's domain twice), IPv4 addresses in the runs of
# digits and dots that hold three dots, personnummer forms, cards and national phone numbers
# in the runs of digits (the seventh list, where international numbers stay with hyperscan).
# A mail log line's address and relay are 30 of its 250 bytes, yet matching them cost 1.1 ns a
# byte of the log: about 300 ns a match for hyperscan to track its start; in documents the
# digit runs are a fifth of the bytes and cost 3.8 ns a byte of them all. These patterns'
# starts are simple to find from where a match can end (tests hold them to hyperscan's).
# Each function takes the buffer, the list's stretches and its kinds' compiled indices.
FOUND_IN_C = (
    (None, "email_keys", ("email",)),
    (7, "ipv4_keys", ("ipv4",)),
    (6, "digit_keys", ("pnr_form", "card", "phone_nat")),
)
# Keyword-gated kinds whose gate patterns run in a list of `windows` of their own (by index);
# the others run around five digits or a digit, separator and digit (the second list). The
# bare ten-digit number's value begins with ten digits in a row (a test holds it to that), so
# its gates run only around such runs (the sixth): a personnummer column's lines
# ("personnummer 811218-9876") hold a keyword every 25 bytes and digits everywhere, where its
# gate cost 16 ns a byte although hyphenated numbers never match it.
GATE_STRETCHES = {"dig10": 5}


class HyperscanEngine:
    """Hyperscan block-mode databases; the scans run in C without the GIL."""

    name = "hyperscan"
    # Fewer bytes than this per stretch: match the whole buffer (see `_scan_windowed`).
    bytes_per_stretch = 1024
    # The same for the lists of `_OWN_STRETCHES`, which are joined and mapped back in C: a
    # stretch costs little there, and only stretches that fill the buffer make it cheaper whole.
    own_bytes_per_stretch = 16

    def __init__(self, compiled: list[Compiled], *, binding: bool = False) -> None:
        """The databases of `compiled`'s patterns.

        `binding`: scan through the `hyperscan` binding even where `scanners._hs` is built (the
        tests compare the two).
        """
        self._binding = binding
        # Gate patterns (keyword ... value) are too large with start-of-match tracking; their
        # end is enough, since RawMatcher looks for the value around it.
        gated = frozenset(i for i, c in enumerate(compiled) if c.kind.gate)
        self._all: _Database | None = None
        # Stretches of 8-bit text where keyword-free kinds can match, and the surroundings of
        # the digits every keyword-gated 8-bit value holds (module docstring).
        # (list of `windows`, scanners._hot function, compiled indices) of the kinds C finds:
        # a function's kinds all compiled, else hyperscan matches them.
        eight_bit = {c.kind.name: i for i, c in enumerate(compiled) if not c.wide}
        self._found_in_c = [
            (at, find, tuple(eight_bit[kind] for kind in kinds))
            for at, find, kinds in FOUND_IN_C
            if all(kind in eight_bit for kind in kinds)
        ]
        in_c = {i for _, _, indices in self._found_in_c for i in indices}
        windowed = [
            i for i, c in enumerate(compiled) if not c.wide and not c.kind.gate and i not in in_c
        ]
        near_gate = [i for i, c in enumerate(compiled) if not c.wide and c.kind.gate]
        # The windowed and gated kinds by the list of `windows` that holds their stretches.
        by_list: dict[int, list[int]] = {}
        for i in windowed:
            by_list.setdefault(_OWN_STRETCHES.get(compiled[i].kind.name, 0), []).append(i)
        gates_by_list: dict[int, list[int]] = {}
        for i in near_gate:
            gates_by_list.setdefault(GATE_STRETCHES.get(compiled[i].kind.name, 1), []).append(i)
        self._by_list: list[tuple[int, _Database]] = []
        self._gates_by_list: list[tuple[int, _Database]] = []
        self._windowed: _Database | None = None
        self._utf16: _Database | None = None
        self._gate_margin = _gate_margin([compiled[i] for i in near_gate])
        self._wide_margin = _wide_margin([c for c in compiled if c.wide])
        if _hot is not None and windowed:
            rest = [(s, i) for i, c in enumerate(compiled) if c.wide for s in c.sources]
            self._by_list = [
                (at, self._database([(s, i) for i in kinds for s in compiled[i].sources]))
                for at, kinds in sorted(by_list.items())
            ]
            self._windowed = self._by_list[0][1]
            self._gates_by_list = [
                (at, self._database([(s, i) for i in kinds for s in compiled[i].sources], gated))
                for at, kinds in sorted(gates_by_list.items())
            ]
            self._utf16 = self._database(rest, gated) if rest else None
        else:
            self._all = self._database(
                [(s, i) for i, c in enumerate(compiled) for s in c.sources], gated
            )
        # For UTF-16 text: the 8-bit patterns over the text itself, and over its narrow views
        # reporting the kind's UTF-16 index. Compiled when the first such buffer comes.
        wide_of = {c.kind.name: i for i, c in enumerate(compiled) if c.wide}
        self._as_wide = tuple(-1 if c.wide else wide_of[c.kind.name] for c in compiled)
        self._eight_patterns = [
            (s, i) for i, c in enumerate(compiled) if not c.wide for s in c.sources
        ]
        self._gated = gated
        self._eight: _Database | None = None
        self._lock = threading.Lock()
        # The values of gated kinds alone, with their starts, for the windows around gate
        # matches: much faster than Python `re` over the same windows.
        values = [(c.value_source, i) for i, c in enumerate(compiled) if i in gated]
        self._values = self._database(values) if values else None

    def _database(
        self, patterns: list[tuple[str, int]], ends: frozenset[int] = frozenset()
    ) -> _Database:
        return _Database(patterns, ends, binding=self._binding)

    def candidates(self, data: bytes | memoryview) -> list[tuple[int, int]]:
        """Every (start, pattern) hyperscan reports; for gate patterns (end, pattern)."""
        if not utf16.mostly_utf16(data):
            if self._all is not None:
                return self._all.pairs(data)
            return self._scan_windowed(data)
        with self._lock:  # matchers are shared by threads: compile once
            if self._eight is None:
                self._eight = self._database(self._eight_patterns, self._gated)
        found = self._eight.pairs(data)
        for parity in (0, 1):
            view = utf16.narrow(data, parity)
            found += self._eight.pairs(view, 2, parity, self._as_wide)
        return found

    def candidate_keys(self, data: bytes | memoryview) -> bytes:
        """`candidates` as packed keys (`packed`, in any order).

        With `scanners._hs`, a page of 8-bit text's matches never become tuples: a page of
        dense documents made a million of them, and the collector's passes over them.
        """
        if self._all is not None or utf16.mostly_utf16(data):
            return packed(self.candidates(data))
        return b"".join(self._scan_windowed(data, keys=True))

    def _scan_windowed(self, data: bytes | memoryview, *, keys: bool = False) -> list[Any]:
        """Each database over the stretches of `data` where its patterns can match.

        The pairs, or with `keys` a list of their packed keys' parts (`packed`).
        """
        assert self._windowed is not None
        assert _hot is not None
        # Past one stretch per `bytes_per_stretch` bytes the whole buffer is matched anyway.
        limit = len(data) // self.bytes_per_stretch if self.bytes_per_stretch else -1
        per_own = self.own_bytes_per_stretch
        own_limit = len(data) // per_own if per_own else -1
        lists = _hot.windows(data, self._gate_margin, self._wide_margin, limit, True, own_limit)
        scans = [(db, lists[at], 1) for at, db in self._by_list]
        # A gate's gap matches any byte: the stretches are kept further apart than it.
        scans += [(db, lists[at], self._gate_margin) for at, db in self._gates_by_list]
        if self._utf16 is not None:
            scans.append((self._utf16, lists[2], self._wide_margin))
        in_c = [
            getattr(_hot, find)(data, None if at is None else lists[at], *i)
            for at, find, i in self._found_in_c
        ]
        if keys:
            parts = [self._scan_stretches(db, data, at, gap, keys=True) for db, at, gap in scans]
            return parts + in_c
        found: list[tuple[int, int]] = []
        for db, at, gap in scans:
            found += self._scan_stretches(db, data, at, gap)
        for part in in_c:
            found += [(k >> 8, k & 255) for k in array("Q", part)]
        return found

    def _scan_stretches(
        self,
        db: _Database,
        data: bytes | memoryview,
        stretches: list[tuple[int, int]] | bytes | None,
        gap: int,
        *,
        keys: bool = False,
    ) -> Any:
        """`db` over the stretches of `data`, joined by `gap` bytes of 0x01, at their offsets.

        Reports a match's start, or its end for `db.ends` (an end maps from the stretch its last
        byte lies in). None for `stretches` means too many to count: all of `data`; bytes are
        (lo, hi) pairs of native integers (`windows`' lists of `_OWN_STRETCHES`). The pairs, or
        with `keys` their packed keys.
        """
        if stretches is None:
            return db.keys(data) if keys else db.pairs(data)
        if isinstance(stretches, bytes):
            bounds = np.frombuffer(stretches, dtype=np.intp)
            count, covered = len(bounds) // 2, int(bounds[1::2].sum() - bounds[0::2].sum())
            per_stretch = self.own_bytes_per_stretch
        else:
            count, covered = len(stretches), sum(hi - lo for lo, hi in stretches)
            per_stretch = self.bytes_per_stretch
        if not count:
            return b"" if keys else []
        # Text has stretches everywhere: joining them costs more in Python (about 2 us a
        # stretch; a mail log has one every 50 bytes) than hyperscan over all of it (4 ns a byte).
        if count * per_stretch > len(data) or covered * 2 > len(data):
            return db.keys(data) if keys else db.pairs(data)
        if keys and db.spans_in_c:
            return db.span_keys(data, stretches, gap)
        if isinstance(stretches, bytes):
            stretches = [(int(lo), int(hi)) for lo, hi in bounds.reshape(-1, 2)]
        joined, origins = _join(data, stretches, gap)
        ends = db.ends
        found = []
        for pos, ident in db.pairs(joined):
            w = bisect.bisect_right(origins, pos - 1 if ident in ends else pos) - 1
            found.append((pos + stretches[w][0] - origins[w], ident))
        return packed(found) if keys else found

    def values(
        self, data: bytes | memoryview, windows: list[tuple[int, int, int]]
    ) -> list[tuple[int, int]]:
        """Every value start hyperscan reports in each window, for that window's kind.

        The windows are joined into one buffer, two or three bytes of \\x01 between them (no
        pattern's value holds one; UTF-16 keeps its byte parity), and scanned once.
        """
        if self._values is None or not windows:
            return []
        buffer, origins = _join(data, [(lo, hi) for lo, hi, _ in windows], 2, even=True)
        found = []
        for start, ident in self._values.pairs(buffer):
            w = bisect.bisect_right(origins, start) - 1
            if w >= 0 and windows[w][2] == ident:
                found.append((windows[w][0] + start - origins[w], ident))
        return found
