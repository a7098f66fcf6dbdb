"""Attacks on the write guard through the storage stack, on real loop devices.

Each test builds a stack the old guard let through (it looked only at the target, its
partitions and its sysfs holders), checks that the guard now refuses it with one reason that
names the layer, and, where the stack can be taken apart, that the target is writable again:
the refusal came from that layer, not from something else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from wipe_helpers import MiB

from wipe import GuardRefusal, check_writable, open_target

HOLD = (
    "import os, sys, time\n"
    "flags = os.O_RDONLY | (os.O_EXCL if sys.argv[2] == 'excl' else 0)\n"
    "fd = os.open(sys.argv[1], flags)\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


@contextmanager
def held_open(path: Path, *, exclusive: bool = False) -> Iterator[str]:
    """Another process holds `path` open (read-only, O_EXCL if asked); yields 'pid N (comm)'."""
    mode = "excl" if exclusive else "plain"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline() == "held\n"
        comm = Path(f"/proc/{proc.pid}/comm").read_text().strip()
        yield f"pid {proc.pid} ({comm})"
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def mounted(dev: Path, where: Path) -> Iterator[Path]:
    """`dev` formatted ext4 and mounted at `where` for the block."""
    subprocess.run(["mkfs.ext4", "-q", "-F", str(dev)], check=True, capture_output=True)
    where.mkdir(exist_ok=True)
    subprocess.run(["mount", str(dev), str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False, capture_output=True)


def _reason(path: Path) -> str:
    with pytest.raises(GuardRefusal) as e:
        check_writable(path)
    return e.value.reason


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def _detach(dev: Path) -> None:
    subprocess.run(["losetup", "-d", str(dev)], check=True)


def test_loop_device_over_a_mounted_loop_device(make_loop, tmp_path: Path) -> None:
    lower = make_loop(16 * MiB)
    with mounted(lower, tmp_path / "mnt") as mnt:
        upper = make_loop(image=lower)
        assert _reason(upper) == f"{lower} (backing device of {upper}) is mounted at {mnt}"
    check_writable(upper)


def test_second_loop_device_on_a_mounted_image(make_loop, tmp_path: Path) -> None:
    image = tmp_path / "customer.img"
    _sparse(image, 16 * MiB)
    first = make_loop(image=image)
    with mounted(first, tmp_path / "mnt") as mnt:
        second = make_loop(image=image)
        assert _reason(second) == f"{first} (loop device on {image}) is mounted at {mnt}"
    check_writable(second)


def test_loop_device_on_the_target_itself_mounted(make_loop, tmp_path: Path) -> None:
    target = make_loop(16 * MiB)
    over = make_loop(image=target)  # a loop device is no holder: sysfs does not show it
    with mounted(over, tmp_path / "mnt") as mnt:
        assert _reason(target) == f"{over} (loop device on {target}) is mounted at {mnt}"
    check_writable(target)


def test_device_held_open_read_only_by_another_process(make_loop) -> None:
    dev = make_loop(8 * MiB)
    with held_open(dev) as holder:
        assert _reason(dev) == f"open in {holder}"
    check_writable(dev)


def test_device_held_with_o_excl_by_another_process(make_loop) -> None:
    dev = make_loop(8 * MiB)
    with held_open(dev, exclusive=True) as holder:
        assert _reason(dev) == f"open in {holder}"
    check_writable(dev)


def test_backing_device_held_open_by_another_process(make_loop) -> None:
    lower = make_loop(8 * MiB)
    upper = make_loop(image=lower)
    with held_open(lower) as holder:
        assert _reason(upper) == f"{lower} (backing device of {upper}) is open in {holder}"


def test_image_open_in_another_process(tmp_path: Path) -> None:
    image = tmp_path / "vm-disk.img"
    _sparse(image, 8 * MiB)
    with held_open(image) as holder:
        assert _reason(image) == f"open in {holder}"
    check_writable(image)


def test_image_attached_through_a_hard_link(make_loop, tmp_path: Path) -> None:
    image = tmp_path / "customer.img"
    _sparse(image, 8 * MiB)
    other_name = tmp_path / "same-file.img"
    os.link(image, other_name)
    dev = make_loop(image=other_name)
    assert _reason(image) == f"image is attached as {dev}; detach it first"


def test_file_system_lazily_unmounted_but_held_by_a_loop_device(make_loop, tmp_path: Path):
    """`umount -l` hides the mount; a loop device over a file inside keeps the file system live.

    Writing the disk under it would destroy that file system; only the kernel's exclusive
    claim on the disk still shows it.
    """
    dev = make_loop(16 * MiB)
    with mounted(dev, tmp_path / "mnt") as mnt:
        inner_image = mnt / "inner.img"
        _sparse(inner_image, 4 * MiB)
        inner = make_loop(image=inner_image)
        subprocess.run(["umount", "-l", str(mnt)], check=True)
    try:
        assert _reason(dev) == (
            "claimed exclusively by the kernel or another process (O_EXCL open: device busy)"
        )
    finally:
        _detach(inner)


def test_file_system_lazily_unmounted_but_used_by_a_process(make_loop, tmp_path: Path) -> None:
    dev = make_loop(16 * MiB)
    with mounted(dev, tmp_path / "mnt") as mnt:
        user = subprocess.Popen(["sleep", "600"], cwd=mnt)
        subprocess.run(["umount", "-l", str(mnt)], check=True)
    try:
        assert _reason(dev) == f"a file system on it is still in use by pid {user.pid} (sleep)"
    finally:
        user.kill()
        user.wait()


def test_the_guard_does_not_count_its_own_process(make_loop) -> None:
    """A firmware erase re-checks the target it already holds open (O_EXCL) itself."""
    dev = make_loop(8 * MiB)
    with open_target(dev):
        check_writable(dev)
