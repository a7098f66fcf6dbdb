"""Files' heads judged in batches, by the scan's worker processes or in the map's thread.

The oracle is `extents.raw_readable` asked of each file as the walk gives it (read through
dissect's own stream, one file at a time, as the map did before): the map's `raw_readable` set
and places must agree with it whoever judged the heads, and when a worker dies mid-batch.
"""

from __future__ import annotations

import gzip
import os
import random
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from scanners import heads
from scanners.extents import judge_heads, map_target, raw_readable
from scanners.filesystems import FileRef, walk
from scanners.inflate import Limits
from scanners.pool import SharedPool
from scanners.target import Target
from scanners.volumes import TargetStream, buffered, find_volumes, open_volume
from tests.scanners.documents import email, personnummer
from tests.scanners.images import MiB, make_fs


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ext4 image of 700 files of every kind the judgement tells apart: text, tables with
    and without a personnummer column, gzip'd text and a gzip'd table, UTF-16, binary."""
    work = tmp_path_factory.mktemp("heads")
    src = work / "src"
    rng = random.Random(5)
    for i in range(700):
        folder = src / f"d{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = i % 7
        if kind == 0:
            (folder / f"brev{i}.txt").write_text(f"Hej Anna, {email(i)} {personnummer(i)}\n" * 9)
        elif kind == 1:
            rows = "".join(f"{j};Anna;{personnummer(j)}\n" for j in range(20))
            (folder / f"kunder{i}.csv").write_text("id;namn;personnummer\n" + rows)
        elif kind == 2:
            (folder / f"lista{i}.csv").write_text("id;namn;epost\n1;Anna;" + email(i) + "\n")
        elif kind == 3:
            log = "".join(f"to=<{email(j)}> status=sent\n" for j in range(200))
            (folder / f"mail{i}.log.gz").write_bytes(gzip.compress(log.encode()))
        elif kind == 4:
            table = "namn;personnummer\nAnna;" + personnummer(i) + "\n"
            (folder / f"tabell{i}.csv.gz").write_bytes(gzip.compress(table.encode()))
        elif kind == 5:
            (folder / f"u16_{i}.txt").write_bytes(
                ("\ufeffHej " + email(i) + "\n").encode("utf-16-le")
            )
        else:
            (folder / f"prog{i}.bin").write_bytes(rng.randbytes(rng.randrange(1, 9000)))
    return make_fs("ext4", work / "fs.img", 64 * MiB, src)


def _oracle(image: Path) -> set[str]:
    """The paths `raw_readable` takes, each file read through dissect as the walk gives it."""
    readable = set()
    with Target(image) as target:
        fh = buffered(TargetStream(target))
        volumes, _ = find_volumes(fh, target.size)
        for volume in volumes:
            for entry in walk(volume.kind, open_volume(fh, volume)):
                if isinstance(entry, FileRef) and raw_readable(entry, Limits()):
                    readable.add(entry.path)
    return readable


def _places(extents) -> list:  # type: ignore[no-untyped-def]
    return sorted(zip(extents._starts, extents._ends, map(repr, extents._places), strict=True))


def test_heads_judged_here_agree_with_each_file_read_through_dissect(many_files: Path) -> None:
    with Target(many_files) as target:
        extents = map_target(target, decoded_by_files=True, inflate_limits=Limits())
    want = _oracle(many_files)
    assert extents.raw_readable == want
    # text, lists without the column, gzip'd text, UTF-16 and binary; not the tables with it
    assert len(want) == 500
    assert not any("kunder" in p or "tabell" in p for p in want)


def test_heads_judged_by_the_workers_give_the_same_map(
    many_files: Path, hasher, monkeypatch
) -> None:
    """A real pool of the scan's workers: three batches of 256 go out; the same map."""
    from functools import partial

    import scanners.extents
    from scanners.fastpath import RawMatcher

    queues: list[heads.HeadQueue] = []

    class Kept(heads.HeadQueue):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            queues.append(self)

    monkeypatch.setattr(scanners.extents, "HeadQueue", Kept)
    with Target(many_files) as target:
        here = map_target(target, decoded_by_files=True, inflate_limits=Limits())
        with SharedPool(partial(RawMatcher, hasher), hasher) as pool:
            pool.executor()  # started: every batch goes to the workers
            there = map_target(target, decoded_by_files=True, inflate_limits=Limits(), pool=pool)
    assert (queues[0].sent, queues[0].here) == (0, 3)
    assert (queues[1].sent, queues[1].here) == (3, 0)
    assert there.raw_readable == here.raw_readable
    assert _places(there) == _places(here)
    assert there._fragmented == here._fragmented


def _dies(path: str, jobs: list, limits: Limits) -> list:  # type: ignore[type-arg]
    os._exit(3)  # a worker killed mid-batch


class _Running:
    """The pool interface `HeadQueue` asks (`SharedPool.started` and `executor`)."""

    def __init__(self, executor: ProcessPoolExecutor) -> None:
        self._executor = executor

    def started(self) -> bool:
        return True

    def executor(self) -> ProcessPoolExecutor:
        return self._executor


def test_a_worker_that_dies_leaves_its_batch_to_be_judged_here(many_files: Path) -> None:
    placed: dict[str, bool | None] = {}
    with Target(many_files) as target, ProcessPoolExecutor(1) as executor:
        jobs = []
        fh = buffered(TargetStream(target))
        volumes, _ = find_volumes(fh, target.size)
        for entry in walk(volumes[0].kind, open_volume(fh, volumes[0])):
            if isinstance(entry, FileRef) and entry.runs is not None:
                runs = tuple(entry.runs())
                jobs.append(
                    heads.Deferred(
                        0, target.size, entry.path, entry.path, entry.size, list(runs), runs, True
                    )  # fmt: skip
                )
        queue = heads.HeadQueue(
            partial(_dies, str(many_files), limits=Limits()),
            lambda d, r: placed.__setitem__(d.path, r),
            _Running(executor),  # type: ignore[arg-type]
            here=lambda batch: judge_heads(str(many_files), batch, Limits()),
        )
        for job in jobs[:300]:
            queue.add(job)
        queue.drain()
    assert queue.sent >= 1
    assert queue.here >= 1
    assert len(placed) == 300
    assert {p for p, r in placed.items() if r} == {j.path for j in jobs[:300]} & _oracle(many_files)
