"""A whole file counted in a worker (`scanners.filejob`): a gzip'd text streamed must count
exactly as the file pass's thread counts it whole (`formats.extract` and `FileItems`)."""

from __future__ import annotations

import gzip
import io
import random
import tarfile

import pytest

from scanners import filejob, formats
from scanners.fastpath import RawMatcher
from scanners.fileitems import TEXT_CHUNK
from scanners.filejob import FileJob, count_file
from scanners.findings import ValueHasher
from tests.scanners.documents import email, personnummer

HASHER = ValueHasher(b"f" * 32)
MATCHER = RawMatcher(HASHER)
JOB = FileJob(formats.Limits(), nlp_max_chars=1 << 20, names=True)


def _whole(path: str, data: bytes, job: FileJob = JOB) -> filejob.FileOutcome:
    """The file counted as the pass's thread counts it: extracted whole."""
    streamed = filejob._streamed
    filejob._streamed = lambda *args: None
    try:
        return count_file(MATCHER, HASHER, path, data, job)
    finally:
        filejob._streamed = streamed


def _same(path: str, data: bytes, job: FileJob = JOB) -> filejob.FileOutcome:
    got, want = count_file(MATCHER, HASHER, path, data, job), _whole(path, data, job)
    assert got.tally == want.tally
    assert got.problems == want.problems
    assert got.texts == want.texts
    return got


def _log(rng: random.Random, lines: int, *, width: int = 0) -> str:
    out = []
    for i in range(lines):
        n = rng.randrange(10**6)
        ip, pnr, phone = f"192.0.2.{n % 250 + 1}", personnummer(n % 9000), f"070-{n % 1000:03d}"
        out.append(
            rng.choice(
                [
                    f"Mar  1 10:00:{i % 60:02d} mx1 postfix: to=<{email(n)}>, relay=[{ip}]",
                    f"Kund Anna Berg, personnummer {pnr}, tel {phone} 45 67",
                    f"Med vänliga hälsningar\nKarin Lindqvist\n{email(n)}",
                    "x" * width,
                    "",
                ]
            )
        )
    return "\n".join(out) + "\n"


def test_a_gzipped_log_streamed_counts_as_the_whole_text() -> None:
    """Logs of 1 line to 3 MB (several pieces and chunks), lines up to past a chunk, the names'
    budget cut in a piece or not: the same tally, problems and text count; streamed."""
    rng = random.Random(3)
    tried = 0
    for lines, width, names in (
        (1, 0, 1 << 20), (40, 0, 1 << 20), (30_000, 0, 1 << 20), (30_000, 0, 3_000),
        (60, TEXT_CHUNK + 7, 1 << 20), (3, 3 * TEXT_CHUNK, 100),
    ):  # fmt: skip
        text = _log(rng, lines, width=width)
        job = FileJob(formats.Limits(), nlp_max_chars=names, names=True)
        got = _same("/var/log/mail.log.1.gz", gzip.compress(text.encode()), job)
        assert got.streamed
        assert got.texts == 1
        tried += sum(got.tally.counts.values())
    assert tried > 50_000


def test_what_is_not_a_streamable_text_is_read_whole() -> None:
    """Another encoding (cp1252, Latin-1 late in the stream), UTF-16, binary, a tar inside, a
    CSV with a personnummer column, a first line past the first piece, a damaged or cut
    stream, an empty one: each counts as the whole file does."""
    rng = random.Random(4)
    text = _log(rng, 20_000)
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        info = tarfile.TarInfo("kunder.txt")
        body = text.encode()
        info.size = len(body)
        t.addfile(info, io.BytesIO(body))
    csv = "namn;personnummer\n" + "".join(
        f"Anna;{personnummer(i)}\n" for i in range(5000)
    )  # fmt: skip
    good = gzip.compress(text.encode())
    cases = {
        "latin1": gzip.compress(text.encode() + "Göteborg".encode("latin-1") + b"\n"),
        "cp1252": gzip.compress("Malmö €\n".encode("cp1252") + text.encode()),
        "utf16": gzip.compress(text.encode("utf-16")),
        "binary": gzip.compress(bytes(rng.randrange(256) for _ in range(70_000))),
        "tar": gzip.compress(tar.getvalue()),
        "csv": gzip.compress(csv.encode()),
        "long first line": gzip.compress(b"y" * (3 << 20) + b"\n" + text.encode()),
        "damaged": good[:5000] + bytes(4000) + good[9000:],
        "cut": good[: len(good) // 2],
        "two members": good + gzip.compress(b"personnummer 19811218-9876\n"),
        "empty": gzip.compress(b""),
        "blank first piece": gzip.compress(b"\n" * (2 << 20) + text.encode()),
    }
    # Streamed: a cut stream, a second member (ignored, as whole), an empty one, a long first
    # line and a blank first piece; the rest is read whole.
    streamable = {"cut", "two members", "empty", "long first line", "blank first piece"}
    for name, data in cases.items():
        assert _same(f"/home/a/{name}.gz", data).streamed == (name in streamable), name


def test_over_the_unpack_limit_only_the_problem_counts() -> None:
    """A gzip bomb past the limit in its first piece or a later one: no findings of its text,
    the member's name still counted, the problem reported (as the whole file)."""
    text = _log(random.Random(5), 20_000).encode()
    name = f"/home/a/{personnummer(7)}.txt.gz"
    for limit in (100_000, (3 << 20) // 2, len(text) - 1, len(text)):
        job = FileJob(formats.Limits(max_member=limit), nlp_max_chars=1 << 20, names=True)
        got = _same(name, gzip.compress(text), job)
        over = limit < len(text)
        assert bool(got.problems) == over
        # The names' values (in the file's name and the member's, here unredacted) at least.
        assert got.tally.counts["personnummer"] >= 2
        if over:
            assert got.tally.counts["personnummer"] == 2


@pytest.mark.parametrize("piece", [1 << 16, 65_537, 1 << 20])
def test_multibyte_characters_across_pieces(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    monkeypatch.setattr(filejob, "PIECE", piece)
    text = "".join(f"Åsa Öberg {personnummer(i)} räksmörgås €\n" for i in range(40_000))
    got = _same("/x/y.log.gz", gzip.compress(text.encode()))
    assert got.streamed
    assert got.tally.counts["personnummer"] == 40_000


def test_every_member_of_a_gzip_file_and_bytes_after_them_count() -> None:
    """Attack: a gzip file of several members (`cat a.gz b.gz`, pigz, appended logs), and
    bytes after the last member. Only the first member was read, streamed or whole, and the raw
    pass leaves a file the file pass decodes to it: a personnummer in a second member, or in
    plain text appended, was found nowhere in a full scan. Now every member counts, and bytes
    after them as the file's own; streamed and whole alike."""
    rng = random.Random(9)
    first = _log(rng, 3000).encode()
    second = "".join(f"Kund personnummer {personnummer(i)}\n" for i in range(40)).encode()
    tail = b"".join(f"mejl {email(i)} pnr {personnummer(i + 100)}\n".encode() for i in range(7))
    one = _same("/l.gz", gzip.compress(first))
    for data, more in (
        (gzip.compress(first) + gzip.compress(second), {"personnummer": 40}),
        (gzip.compress(first) + gzip.compress(b"") + gzip.compress(second), {"personnummer": 40}),
        (gzip.compress(first) + tail, {"personnummer": 7, "email": 7}),
        (gzip.compress(first) + b"\x00" * 512, {}),  # padding: nothing more
    ):
        got = _same("/l.gz", data)
        assert got.streamed
        for category in ("personnummer", "email"):
            want = one.tally.counts[category] + more.get(category, 0)
            assert got.tally.counts[category] == want, (category, data[-60:])
    # A damaged second member: the file is damaged, as whole.
    damaged = gzip.compress(first) + gzip.compress(second)[:20] + b"\xff" * 40
    assert not count_file(MATCHER, HASHER, "/l.gz", damaged, JOB).streamed
    _same("/l.gz", damaged)
