"""Scanner test fixtures: a finding key, the planted corpus and drive images built from it.

A module (not a conftest) so that CLI and pipeline tests can import the same fixtures.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scanners.documents import Planted, write_corpus
from tests.scanners.images import (
    MiB,
    Volume,
    build_disk,
    delete_exfat,
    delete_ext4,
    delete_fat,
    make_fs,
    tools_missing,
)

MISSING = tools_missing()
needs_tools = pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} is not installed")


@pytest.fixture(scope="session")
def key() -> bytes:
    """A fixed finding key, so digests are comparable across the scans of one test run."""
    return bytes(range(32))


@pytest.fixture(scope="session")
def hasher(key: bytes):
    from scanners.findings import ValueHasher

    return ValueHasher(key)


@dataclass(frozen=True)
class Disk:
    """A built drive image and what was planted in it."""

    path: Path
    planted: dict[str, Planted]
    prefix: str  # how the file pass names this disk's files ("partition 1:" or "")
    flat: bool = False  # ntfscp cannot make directories: "docs/a.txt" is stored as "docs_a.txt"

    def location(self, rel: str) -> str:
        """The file pass's name for a planted file."""
        return f"{self.prefix}/{rel.replace('/', '_') if self.flat else rel}"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Planted]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, write_corpus(root)


def _disk(tmp: Path, corpus: tuple[Path, dict[str, Planted]], fs: str, scheme: str) -> Disk:
    if MISSING:
        pytest.skip(f"{MISSING} is not installed")
    source, planted = corpus
    size = 40 * MiB
    image = make_fs(fs, tmp / f"{fs}.fs", size, source)
    if fs == "ext4":
        delete_ext4(image, "/raderad.txt")
    elif fs == "fat":
        delete_fat(image, "/raderad.txt")
    elif fs == "exfat":
        delete_exfat(image, "/raderad.txt")
    else:
        # ntfs-3g has no delete tool that works without mounting: the file stays live.
        planted = dict(planted)
        raw_only = planted.pop("raderad.txt")
        planted["raderad.txt"] = Planted(dict(raw_only.raw), dict(raw_only.raw))
    disk = tmp / f"{fs}-{scheme}.img"
    build_disk(disk, scheme, [Volume(fs, size, image=image)])
    return Disk(disk, planted, "" if scheme == "none" else "partition 1:", flat=fs == "ntfs")


@pytest.fixture(scope="session")
def ext4_gpt(tmp_path_factory: pytest.TempPathFactory, corpus_dir) -> Disk:
    return _disk(tmp_path_factory.mktemp("ext4"), corpus_dir, "ext4", "gpt")


@pytest.fixture(scope="session")
def fat_mbr(tmp_path_factory: pytest.TempPathFactory, corpus_dir) -> Disk:
    return _disk(tmp_path_factory.mktemp("fat"), corpus_dir, "fat", "mbr")


@pytest.fixture(scope="session")
def exfat_mbr(tmp_path_factory: pytest.TempPathFactory, corpus_dir) -> Disk:
    if shutil.which("mount.exfat-fuse") is None or not Path("/dev/fuse").exists():
        pytest.skip("exfat-fuse (and /dev/fuse) are needed to put files on exFAT")
    return _disk(tmp_path_factory.mktemp("exfat"), corpus_dir, "exfat", "mbr")


@pytest.fixture(scope="session")
def ntfs_gpt(tmp_path_factory: pytest.TempPathFactory, corpus_dir) -> Disk:
    return _disk(tmp_path_factory.mktemp("ntfs"), corpus_dir, "ntfs", "gpt")


def copy(src: Path, dst: Path) -> Path:
    """A private copy of a session image that a test may damage."""
    shutil.copyfile(src, dst)
    return dst


def breaking_walk(
    walk: Callable[..., Iterator[object]], at: int
) -> Callable[..., Iterator[object]]:
    """`walk` raising at its entry number `at`, as dissect does on a corrupt directory block."""

    def breaking(kind: str, fh: object) -> Iterator[object]:
        for n, entry in enumerate(walk(kind, fh)):
            if n == at:
                raise ValueError("corrupt directory block")
            yield entry

    return breaking
