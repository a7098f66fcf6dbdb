"""A regular file is a write target only when it looks like a disk image.

The images are made by the real tools (sfdisk, mkfs.*, mkswap, cryptsetup), the independent
oracle for what a partition table or a superblock looks like. Sparse files of a TiB show the
check stays cheap: this process's read count (/proc/self/io `rchar`) must stay small.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from wipe_helpers import MiB

from wipe import GuardRefusal, check_target
from wipe.guard import NOT_AN_IMAGE
from wipe.image import recognize

TiB = 1 << 40


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def _run(*cmd: str, stdin: str | None = None) -> None:
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed")
    subprocess.run(cmd, input=stdin, text=True, check=True, capture_output=True)


def _bytes_read() -> int:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["rchar"])


def _made(tmp_path: Path, kind: str) -> Path:
    image = _sparse(tmp_path / f"{kind}.img", 64 * MiB)
    if kind in ("gpt", "dos"):
        _run("sfdisk", "-q", str(image), stdin=f"label: {kind}\n,,L\n")
    elif kind == "swap":
        _run("mkswap", str(image))
    elif kind == "luks":
        _run("cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2",
             "--pbkdf-force-iterations", "1000", str(image), "-", stdin="secret")  # fmt: skip
    else:
        _run(f"mkfs.{kind}", *(["-q", "-F"] if kind == "ext4" else []), str(image))
    return image


@pytest.mark.parametrize(
    ("kind", "seen"),
    [
        ("gpt", "partition table (gpt)"),
        ("dos", "partition table (dos)"),
        ("ext4", "filesystem (ext4)"),
        ("vfat", "filesystem (vfat)"),
        ("swap", "other (swap)"),
        ("luks", "crypto (crypto_LUKS)"),
    ],
)
def test_images_made_by_the_real_tools_are_recognised(tmp_path: Path, kind: str, seen: str):
    image = _made(tmp_path, kind)
    assert recognize(image) == seen
    check_target(image)


def test_gpt_with_only_its_backup_header_left(tmp_path: Path) -> None:
    """A wipe stopped early overwrote the start; the backup header in the last sector stays."""
    image = _made(tmp_path, "gpt")
    with image.open("r+b") as f:
        f.write(os.urandom(MiB))
    assert recognize(image) == "GPT header"


def test_a_sparse_tib_of_zeros_is_an_image_and_cheap_to_judge(tmp_path: Path) -> None:
    image = _sparse(tmp_path / "new-disk.img", TiB)
    before = _bytes_read()
    assert recognize(image) == "all zeros"
    assert _bytes_read() - before < 16 * MiB


def test_a_sparse_tib_with_data_only_at_its_end_is_not_all_zeros(tmp_path: Path) -> None:
    image = _sparse(tmp_path / "tail.img", TiB)
    with image.open("r+b") as f:
        f.seek(TiB - 3 * MiB)
        f.write(b"root:x:0:0:root:/root:/bin/bash\n" * 1000)
    before = _bytes_read()
    assert recognize(image) is None
    assert _bytes_read() - before < 16 * MiB


def test_text_after_megabytes_of_zeros_is_found(tmp_path: Path) -> None:
    image = _sparse(tmp_path / "padded.img", 1 << 30)
    with image.open("r+b") as f:
        f.seek(300 * MiB)
        f.write(b"kundregister 19121212-1212\n")
    assert recognize(image) is None


def test_a_large_written_file_with_text_in_its_middle_is_sampled(tmp_path: Path) -> None:
    """80 MiB written (not sparse) is more than is read in full; a 2 MiB text is longer than
    the gap between two samples, so a sample lands in it wherever it is."""
    image = tmp_path / "written.img"
    image.write_bytes(bytes(80 * MiB))
    with image.open("r+b") as f:
        f.seek(37 * MiB + 12345)
        f.write(b"kundregister " * (2 * MiB // 13))
    assert recognize(image) is None


@pytest.mark.parametrize("name", ["passwd-copy", "random.img", "notes.img"])
def test_files_that_are_not_disk_images_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "passwd-copy":
        shutil.copyfile("/etc/passwd", path)
    elif name == "random.img":
        path.write_bytes(os.urandom(4 * MiB))
    else:
        path.write_text("Möte med kund, se bifogad lista.\n" * 1000)
    before = path.read_bytes()
    assert recognize(path) is None
    with pytest.raises(GuardRefusal) as e:
        check_target(path)
    assert str(e.value) == f"refusing to write {path}: {NOT_AN_IMAGE}"
    assert path.read_bytes() == before
    assert check_target(path, force_image=True).kind == "image"


def test_block_devices_are_not_judged_by_content(make_loop) -> None:
    dev = make_loop(4 * MiB)
    with open(dev, "r+b") as f:  # noqa: PTH123
        f.write(b"text, not a disk image\n" * 100)
    check_target(dev)
