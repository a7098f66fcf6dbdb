"""The write guard's refusals, on real loop devices and on this machine's own system disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MiB, needs_loop
from wipe import GuardRefusal, check_writable, inspect
from wipe.blockdev import SYSTEM_MOUNTS, system_device_names


def _system_disk() -> str:
    names = system_device_names()
    disks = [n for n in names if not (Path("/sys/class/block") / n / "partition").exists()]
    if not disks:
        pytest.skip("the running system's disk is not visible as a block device here")
    return f"/dev/{sorted(disks)[0]}"


@needs_loop
def test_fresh_loop_device_is_writable(loop_device: Path) -> None:
    facts = check_writable(loop_device)
    assert facts.size_bytes == 64 * MiB
    assert facts.kind == "block"


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GuardRefusal) as e:
        check_writable(tmp_path / "nope")
    assert e.value.reason == "no such device or image file"


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GuardRefusal) as e:
        check_writable(tmp_path)
    assert str(e.value) == (
        f"refusing to write {tmp_path}: it is a directory, not a block device or image file"
    )


def test_system_disk_is_refused_read_only_check() -> None:
    disk = _system_disk()
    with pytest.raises(GuardRefusal) as e:
        check_writable(disk)
    assert "holds the running system" in e.value.reason


def test_system_mount_points_resolve_to_the_system_disk() -> None:
    disk = _system_disk()
    st = os.stat("/")
    assert "/" in SYSTEM_MOUNTS
    assert inspect(disk).system
    assert os.major(st.st_dev) >= 0


@needs_loop
def test_read_only_loop_is_refused(make_loop) -> None:
    dev = make_loop(read_only=True)
    with pytest.raises(GuardRefusal) as e:
        check_writable(dev)
    assert e.value.reason == "read-only"


@needs_loop
def test_mounted_loop_is_refused(make_loop, tmp_path: Path) -> None:
    dev = make_loop(size=16 * MiB)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(dev)], check=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", str(dev), str(mnt)], check=True)
    try:
        with pytest.raises(GuardRefusal) as e:
            check_writable(dev)
        assert e.value.reason == f"mounted at {mnt}"
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    check_writable(dev)


def _device_mapper_available() -> bool:
    misc = Path("/proc/misc").read_text() if Path("/proc/misc").exists() else ""
    return shutil.which("dmsetup") is not None and "device-mapper" in misc


@needs_loop
def test_loop_with_holder_is_refused(make_loop) -> None:
    if not _device_mapper_available():
        pytest.skip("no device-mapper in this kernel; the QEMU lab covers holders")
    lower = make_loop(size=16 * MiB)
    name = f"ap-test-{os.getpid()}"
    table = f"0 {16 * MiB // 512} linear {lower} 0"
    subprocess.run(["dmsetup", "create", name, "--table", table], check=True)
    try:
        holder = Path(f"/dev/mapper/{name}").resolve().name
        with pytest.raises(GuardRefusal) as e:
            check_writable(lower)
        assert e.value.reason == f"in use by {holder} (holders)"
    finally:
        subprocess.run(["dmsetup", "remove", name], check=True)


@needs_loop
def test_image_attached_as_loop_is_refused(make_loop, tmp_path: Path) -> None:
    image = tmp_path / "attached.img"
    image.touch()
    os.truncate(image, 8 * MiB)
    dev = make_loop(image=image)
    with pytest.raises(GuardRefusal) as e:
        check_writable(image)
    assert e.value.reason == f"image is attached as {dev}; detach it first"


def test_image_file_is_writable(tmp_path: Path) -> None:
    image = tmp_path / "disk.img"
    image.touch()
    os.truncate(image, 3 * MiB + 512)
    facts = check_writable(image)
    assert (facts.kind, facts.size_bytes) == ("image", 3 * MiB + 512)


def test_read_only_image_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write a mode 0444 file; the loop --read-only test covers this")
    image = tmp_path / "ro.img"
    image.write_bytes(b"\0" * 4096)
    image.chmod(0o444)
    with pytest.raises(GuardRefusal, match="read-only"):
        check_writable(image)


def test_empty_image_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "empty.img"
    image.touch()
    with pytest.raises(GuardRefusal, match=r"has no media \(size 0\)"):
        check_writable(image)
