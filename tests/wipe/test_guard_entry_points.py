"""The write guard holds at every entry point that writes: nothing runs before it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from wipe_helpers import MiB

from wipe import (
    SANITIZERS,
    GuardRefusal,
    HiddenAreas,
    Pattern,
    choose,
    open_target,
    overwrite,
    restore_native_max,
    sanitize,
)


def _entry_points(dev: str) -> dict[str, object]:
    present = HiddenAreas(dev, "present", current_max=100, native_max=200)
    calls = {
        "open_target": lambda: open_target(dev),
        "overwrite": lambda: overwrite(dev, Pattern.zeros()),
        "sanitize": lambda: sanitize(dev, choose("clear", "virtual")),
        "restore_native_max": lambda: restore_native_max(dev, present, consent=True),
    }
    for cls in SANITIZERS:
        calls[cls.__name__] = lambda cls=cls: cls(dev).run(cls.METHODS[0].name)
    return calls


@pytest.mark.parametrize(
    "name",
    ["open_target", "overwrite", "sanitize", "restore_native_max",
     *(cls.__name__ for cls in SANITIZERS)],
)  # fmt: skip
def test_read_only_device_is_refused_everywhere(make_loop, name: str) -> None:
    dev = str(make_loop(4 * MiB, read_only=True))
    with pytest.raises(GuardRefusal, match=f"refusing to write {dev}: read-only"):
        _entry_points(dev)[name]()


@pytest.mark.parametrize("name", ["open_target", "overwrite", "sanitize", "NvmeSanitizer"])
def test_mounted_device_is_refused(make_loop, tmp_path: Path, name: str) -> None:
    dev = str(make_loop(8 * MiB))
    subprocess.run(["mkfs.ext4", "-q", "-F", dev], check=True, capture_output=True)
    where = tmp_path / "mnt"
    where.mkdir()
    subprocess.run(["mount", dev, str(where)], check=True)
    try:
        with pytest.raises(GuardRefusal, match=f"mounted at {where}"):
            _entry_points(dev)[name]()
    finally:
        subprocess.run(["umount", str(where)], check=True)


def test_firmware_run_refuses_before_any_tool_runs(make_loop) -> None:
    dev = str(make_loop(4 * MiB, read_only=True))
    for cls in SANITIZERS:
        sanitizer = cls(dev)
        with pytest.raises(GuardRefusal):
            sanitizer.run(cls.METHODS[0].name)
        assert sanitizer.commands == []
