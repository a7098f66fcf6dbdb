"""The file pass goes through the map's walk of each file system instead of walking it again.

Each test scans with both passes twice: once as the scan runs (the file pass takes the map's
log, and dissect's walk is made to fail in the file pass, so a second walk would show) and once
with the log kept empty (the file pass walks every volume itself, as before). The reports must
be the same: counts, distinct values, places, what could not be read.
"""

from __future__ import annotations

import importlib
import shutil
from functools import partial
from pathlib import Path

import pytest

import scanners.files
from scanners.filesystems import MAX_DEPTH, FileRef, Problem
from scanners.scan import ScanOptions, scan
from scanners.volumes import Volume as Found
from scanners.walklog import PlainFile, Stopped, WalkLog
from tests.scanners.disks import Disk, breaking_walk
from tests.scanners.documents import email, personnummer
from tests.scanners.images import (
    MiB,
    Volume,
    build_disk,
    eio_file,
    fat_with_a_hole,
    make_fs,
    run,
    table_image,
)

_SCAN = importlib.import_module("scanners.scan")  # the module (the package exports `scan`)


def _not_walked_again(kind, fh):  # type: ignore[no-untyped-def]
    raise AssertionError("the file pass walked a volume the map had walked")


def _both_ways(path: Path, hasher, monkeypatch, options: ScanOptions | None = None):  # type: ignore[no-untyped-def]
    """The scan through the map's log (no second walk possible), and with the log empty."""
    options = options or ScanOptions()
    with monkeypatch.context() as m:
        m.setattr(scanners.files, "walk", _not_walked_again)
        through = scan(path, hasher, options)
    with monkeypatch.context() as m:
        m.setattr(_SCAN, "WalkLog", partial(WalkLog, max_files=0))
        walked = scan(path, hasher, options)
    assert through.pass_results[1].stats["volumes_walked_by_map"] >= 1
    assert walked.pass_results[1].stats["volumes_walked_by_map"] == 0
    assert through.findings == walked.findings
    assert through.locations == walked.locations
    assert through.not_scannable == walked.not_scannable
    assert through.by_allocation == walked.by_allocation
    assert through.system_files == walked.system_files
    return through


@pytest.mark.parametrize("disk", ["ext4_gpt", "ntfs_gpt", "fat_mbr"])
def test_a_disk_counts_the_same_through_the_maps_walk(
    disk: str, request: pytest.FixtureRequest, hasher, monkeypatch
) -> None:
    """ext4 and FAT (plain runs: compact entries) and NTFS (resident files: dissect's own)."""
    image: Disk = request.getfixturevalue(disk)
    report = _both_ways(image.path, hasher, monkeypatch)
    assert report.findings["personnummer"].count > 0
    assert report.not_scannable == ()


def test_a_value_across_a_fragment_seam_and_in_slack(tmp_path: Path, hasher, monkeypatch) -> None:
    """A file in two runs (its value cut by the seam, found by the file pass reading along
    the runs the map kept) and a value in another file's slack."""
    image = fat_with_a_hole(tmp_path)
    value = f" Personnummer {personnummer(9)} ".encode()
    body = (b"x" * (512 - 6 - 14) + value).ljust(1024, b"y")
    (tmp_path / "BIG.TXT").write_bytes(body)
    run("mcopy", "-i", image, tmp_path / "BIG.TXT", "::/")
    (tmp_path / "KUNDER.CSV").write_text(
        "namn;personnummer\n" + "".join(f"A B;{personnummer(i)}\n" for i in range(1, 40))
    )
    run("mcopy", "-i", image, tmp_path / "KUNDER.CSV", "::/")
    report = _both_ways(image, hasher, monkeypatch)
    raw, files = report.pass_results
    assert files.tally.counts["personnummer"] == 1 + 39  # the seam's value and the table's
    assert raw.tally.counts["personnummer"] == 0


def test_problems_of_a_walk_are_reported_in_their_place(
    tmp_path: Path, corpus_dir, hasher, monkeypatch
) -> None:
    """A directory loop (counted, not reported) and directories nested past the walk's depth
    (reported at their path, among the files' own problems) come from the map's log as they
    came from the file pass's own walk."""
    source, _ = corpus_dir
    tree = tmp_path / "tree"
    shutil.copytree(source, tree)
    deep = tree / "djup"
    for level in range(MAX_DEPTH + 2):
        deep = deep / "d"
        if level % 40 == 0:
            deep.mkdir(parents=True)
            (deep / "kund.txt").write_text(f"Personnummer {personnummer(level + 1)}\n")
    deep.mkdir(parents=True)
    (deep / "kund.txt").write_text(f"Personnummer {personnummer(500)}\n")
    named = tree / f"kund {personnummer(7)}.txt"  # a value in a name: shown cut out
    named.write_text("Anna Berg\nKarin Johansson\n")
    fs = make_fs("ext4", tmp_path / "p.fs", 40 * MiB, tree)
    run("debugfs", "-w", "-R", "ln /docs /docs/again", fs)  # a hard link to a directory
    disk = tmp_path / "p.img"
    build_disk(disk, "gpt", [Volume("ext4", 40 * MiB, image=fs)])
    report = _both_ways(disk, hasher, monkeypatch)
    assert report.pass_results[1].stats["directory_loops"] == 1
    assert ("person_name", "partition 1:/kund [personnummer].txt") in [
        (place["category"], place.get("file")) for place in report.to_dict()["locations"]
    ]
    assert personnummer(7) not in repr(report.to_dict())
    assert [u.reason for u in report.not_scannable] == [
        f"directories nested deeper than {MAX_DEPTH}; not entered"
    ]


def test_a_walk_that_breaks_is_reported_where_it_broke(ext4_gpt: Disk, hasher, monkeypatch) -> None:
    """The map's walk fails part-way (a corrupt directory block): the file pass counts the
    files before it and reports the file system as not scannable, as its own walk did."""
    import scanners.extents

    breaking = breaking_walk(scanners.extents.walk, 10)
    monkeypatch.setattr(scanners.extents, "walk", breaking)
    with monkeypatch.context() as m:
        m.setattr(scanners.files, "walk", _not_walked_again)
        through = scan(ext4_gpt.path, hasher)
    with monkeypatch.context() as m:
        m.setattr(_SCAN, "WalkLog", partial(WalkLog, max_files=0))
        m.setattr(scanners.files, "walk", breaking)
        walked = scan(ext4_gpt.path, hasher)
    broken = [u for u in through.not_scannable if "file system could not be read" in u.reason]
    assert broken
    assert broken[0].reason.endswith("ValueError")
    assert through.not_scannable == walked.not_scannable
    assert through.findings == walked.findings
    assert through.locations == walked.locations


@pytest.mark.skipif(shutil.which("mkfs.btrfs") is None, reason="btrfs-progs is not installed")
def test_unreadable_sectors_in_a_file_read_along_its_runs(
    tmp_path: Path, hasher, make_loop, monkeypatch
) -> None:
    """Attack: a table's middle block fails with a real EIO. Read along the runs the map kept
    (not through dissect's stream), the file is reported as dissect's reading reported it,
    and the rest of it counts the same."""
    data, at = table_image(tmp_path, "epost", email)
    with eio_file(tmp_path, make_loop, data, [at]) as path:
        report = _both_ways(path, hasher, monkeypatch)
    assert ("/kunder.csv", "unreadable sectors (EIO) in the file's data") in [
        (u.region, u.reason) for u in report.not_scannable
    ]
    assert 450 < report.findings["personnummer"].count < 599


def _volume(offset: int) -> Found:
    return Found(label=f"partition at {offset}", offset=offset, size=1 << 20, kind="ext4")


def _plain(n: int, runs: int = 1) -> PlainFile:
    return PlainFile(f"/f{n}", f"/f{n}", 10, tuple((i * 4096, 4096) for i in range(runs)), False)


def test_the_log_keeps_entries_in_order_and_lets_go_of_them() -> None:
    log = WalkLog()
    a, b = _volume(0), _volume(1 << 20)
    log.begin(a)
    ref = FileRef("/r", 3, open=lambda: None)  # type: ignore[arg-type,return-value]
    log.plain(_plain(1))
    log.ref(Problem("/d", "directory unreadable: ValueError"))
    log.ref(ref)
    log.end()
    log.begin(b)
    log.plain(_plain(2))
    log.stop(ValueError("x"))
    first = log.take(a)
    assert first is not None
    assert [type(e) for e in first] == [PlainFile, Problem, FileRef]
    assert log.take(a) is None  # taken once
    second = log.take(b)
    assert second is not None
    assert second[-1] == Stopped("ValueError", "ValueError")


@pytest.mark.parametrize(
    ("bounds", "plain_runs", "refs"),
    [({"max_files": 3}, 1, 0), ({"max_runs": 5}, 2, 0), ({"max_refs": 2}, 1, 3)],
)
def test_a_walk_past_a_bound_is_dropped_for_the_file_pass_to_walk(
    bounds: dict[str, int], plain_runs: int, refs: int
) -> None:
    """Memory bounded whatever the drive holds: past a bound the volume's log is let go."""
    log = WalkLog(**bounds)
    big, small = _volume(0), _volume(1 << 20)
    log.begin(big)
    for n in range(4):
        log.plain(_plain(n, plain_runs))
    for n in range(refs):
        log.ref(FileRef(f"/r{n}", 1, open=lambda: None))  # type: ignore[arg-type,return-value]
    log.end()
    assert log.take(big) is None
    log.begin(small)  # what is left of the bounds is not given back: nothing more is kept
    log.plain(_plain(9))
    log.end()
    assert log.take(small) is None


@pytest.mark.parametrize("layout", ["4kn device", "hybrid mbr+gpt"])
def test_foreign_disk_layouts_go_through_the_maps_walk(
    layout: str, tmp_path: Path, corpus_dir, make_loop, hasher, monkeypatch
) -> None:
    """Attack: the map finds volumes without the device's sector size, the file pass with it
    (a 4Kn drive), and a hybrid MBR lists the GPT's partition again. The file pass must find
    the map's walk of each volume under the same key, or walk it itself; either way the same
    report."""
    source, _ = corpus_dir
    fs = make_fs("ext4", tmp_path / "l.fs", 40 * MiB, source)
    disk = tmp_path / "l.img"
    if layout == "4kn device":
        build_disk(disk, "gpt", [Volume("ext4", 40 * MiB, image=fs)], sector=4096)
        path = make_loop(image=disk, sector_size=4096, read_only=True)
    else:
        build_disk(disk, "gpt", [Volume("ext4", 40 * MiB, image=fs)], hybrid=[0])
        path = disk
    report = _both_ways(path, hasher, monkeypatch)
    assert report.pass_results[1].stats["volumes"] == 1
    assert report.findings["personnummer"].count > 0
    assert report.not_scannable == ()
