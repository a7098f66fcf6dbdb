"""`RunFile` against dissect, the oracle: a file read along its runs gives dissect's bytes.

The file pass hands a worker where a raw-read file lies instead of its bytes (`HeadJob`); the
worker's bytes must be the ones the pass's own thread would have read through dissect.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scanners.filesystems import WALKABLE, FileRef, walk
from scanners.runfile import RunFile, plain_runs
from scanners.target import Target
from scanners.volumes import TargetStream, buffered, find_volumes, open_volume
from tests.scanners.images import MiB, fat_with_a_hole, make_fs, run, tools_missing


def _files(image: Path) -> list[tuple[FileRef, int, int, Target]]:
    target = Target(image)
    fh = buffered(TargetStream(target))
    volumes, _ = find_volumes(fh, target.size)
    out = []
    for volume in volumes:
        if volume.kind in WALKABLE:
            for entry in walk(volume.kind, open_volume(fh, volume)):
                if isinstance(entry, FileRef):
                    out.append((entry, volume.offset, volume.size, target))
    return out


def _source(tmp_path: Path) -> Path:
    rng = random.Random(5)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        size = rng.choice([0, 1, 511, 512, 4095, 4096, 4097, 70_000, 300_000])
        (src / f"f{i}.txt").write_bytes(rng.randbytes(size))
    return src


def _check(image: Path) -> int:
    """Every file read whole, in pieces and from offsets equals dissect's; returns files read."""
    rng = random.Random(9)
    compared = 0
    for ref, base, volume_size, target in _files(image):
        if ref.embedded or ref.transformed or ref.runs is None:
            continue
        runs = plain_runs(ref.runs(), ref.size, volume_size)
        assert runs is not None, ref.path
        with ref.open() as fh:
            want = fh.read()
        assert len(want) == ref.size
        mine = RunFile(target, base, runs)
        assert mine.read() == want, ref.path
        for _ in range(5):
            at, n = rng.randrange(ref.size + 2), rng.randrange(70_000)
            mine.seek(at)
            assert mine.read(n) == want[at : at + n], ref.path
            assert mine.tell() == at + len(want[at : at + n])
        compared += 1
    return compared


@pytest.mark.skipif(bool(tools_missing()), reason="file system tools are not installed")
@pytest.mark.parametrize("fs", ["ext4", "fat", "ntfs"])
def test_a_file_read_along_its_runs_equals_dissects_read(tmp_path: Path, fs: str) -> None:
    image = make_fs(fs, tmp_path / "fs.img", 16 * MiB, _source(tmp_path))
    assert _check(image) >= 6  # the rest are empty, or resident in NTFS records


@pytest.mark.skipif(bool(tools_missing()), reason="file system tools are not installed")
def test_fragmented_and_sparse_files_read_along_their_runs_equal_dissects_read(
    tmp_path: Path,
) -> None:
    """A FAT file written into a one-cluster hole and on past its neighbour (two runs), and an
    ext4 file with a hole (a run with no place): the same bytes as dissect reads."""
    image = fat_with_a_hole(tmp_path)
    (tmp_path / "BIG.TXT").write_bytes(bytes(range(256)) * 8)
    run("mcopy", "-i", image, tmp_path / "BIG.TXT", "::/")
    big = next(ref for ref, *_ in _files(image) if ref.path.endswith("BIG.TXT"))
    assert big.runs is not None
    assert len(big.runs()) > 1  # fragmented
    assert _check(image) == 3

    src = tmp_path / "sparse"
    src.mkdir()
    with open(src / "holes.bin", "wb") as f:
        f.write(b"head" * 1024)
        f.seek(1 * MiB)
        f.write(b"tail" * 1024)
    image = make_fs("ext4", tmp_path / "ext4.img", 16 * MiB, src)
    holes = next(ref for ref, *_ in _files(image) if ref.path.endswith("holes.bin"))
    assert holes.runs is not None
    assert any(start is None for start, _ in holes.runs())  # a hole
    assert _check(image) == 1


def test_runs_that_leave_their_volume_stay_with_dissect() -> None:
    assert plain_runs([(0, 4096), (8192, 4096)], 6000, 1 << 20) == ((0, 4096), (8192, 1904))
    assert plain_runs([(None, 4096), (8192, 4096)], 4096, 1 << 20) == ((None, 4096),)
    assert plain_runs([(0, 4096), ((1 << 20) - 100, 4096)], 6000, 1 << 20) is None
    assert plain_runs([(-512, 4096)], 100, 1 << 20) is None
    assert plain_runs([(0, 4096)], 5000, 1 << 20) is None  # runs end before the file does


@pytest.mark.skipif(bool(tools_missing()), reason="file system tools are not installed")
@pytest.mark.parametrize("fs", ["ext4", "fat"])
def test_the_map_judges_files_read_along_their_runs_as_through_dissect(
    tmp_path: Path, fs: str, monkeypatch
) -> None:
    """The map reads each file's head along its runs; which files the raw pass reads as they
    are comes out as it does through dissect's streams: letters, a table with a personnummer
    column (UTF-8 and UTF-16), a gzip'd log and a gzip'd table, binary bytes, a wide header."""
    import gzip

    from scanners import extents

    src = tmp_path / "src"
    src.mkdir()
    (src / "brev.txt").write_text("Hej Anna,\n" + "tack för brevet.\n" * 400)
    (src / "kunder.csv").write_text("namn;personnummer\n" + "Anna;8112189876\n" * 300)
    (src / "wide.csv").write_bytes("namn;pnr\nAnna;8112189876\n".encode("utf-16"))
    (src / "mail.log.gz").write_bytes(gzip.compress(b"Mar 1 postfix: to=<a@b.se>\n" * 5000))
    (src / "tabell.csv.gz").write_bytes(gzip.compress(b"id;personnummer\n1;8112189876\n" * 900))
    (src / "blob.bin").write_bytes(random.Random(3).randbytes(90_000))
    (src / "header.csv").write_text(";".join(f"kolumn{i}" for i in range(900)) + ";pnr\n1\n")
    image = make_fs(fs, tmp_path / "fs.img", 16 * MiB, src)
    with Target(image) as target:
        mine = extents.map_target(target, decoded_by_files=True)
        monkeypatch.setattr(extents, "plain_runs", lambda *a: None)  # dissect's streams
        theirs = extents.map_target(target, decoded_by_files=True)
    assert mine.raw_readable == theirs.raw_readable
    assert len(mine) == len(theirs)
    names = {p.rsplit("/", 1)[-1].lower() for p in mine.raw_readable}
    assert {"brev.txt", "mail.log.gz", "blob.bin"} <= names
    assert not names & {"kunder.csv", "wide.csv", "tabell.csv.gz", "header.csv"}


def test_a_files_runs_are_parsed_once_however_many_ask() -> None:
    """The map, the seams and a worker's job each ask for a file's runs; ext4's walker read
    and parsed the extent tree again at every call."""
    calls: list[int] = []

    def parse() -> list[tuple[int | None, int]]:
        calls.append(1)
        return [(0, 4096), (None, 4096)]

    ref = FileRef("/a.txt", 6000, lambda: None, parse)  # type: ignore[arg-type, return-value]
    assert ref.runs is not None
    assert [ref.runs() for _ in range(3)] == [[(0, 4096), (None, 4096)]] * 3
    assert len(calls) == 1
