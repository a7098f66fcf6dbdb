"""The storage stack of a write target: what it is made of, and what is built on it.

Writing /dev/loop1 writes whatever /dev/loop1 is made of (its backing device or file,
recursively; a device-mapper or md device's slaves; a whole disk's partitions) and changes the
data of everything built on any of those (holders, partitions, other loop devices on the same
file or device, loop devices whose backing file lives in a file system there). The guard asks of
every layer what it asks of the target: mounted, swap, the running system, held, open?

A layer's direction says which way it was reached: `target` (the target and, for a whole disk,
its partitions), `under` (written through the target) or `over` (built on a layer that is
written). Walking only downwards from `target`/`under` layers and only upwards from `over`
layers keeps unrelated branches out (a device-mapper table over two disks does not make the
second disk part of the first one's stack).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from wipe.blockdev import (
    SYS_BLOCK,
    BlockFacts,
    DevNo,
    children,
    devno_of,
    list_disk_names,
    mount_table,
    name_of,
    read_sysfs,
    strip_deleted,
    swap_devices,
    swap_files,
    system_device_names,
)
from wipe.openers import FileId, OpenTable

TARGET, UNDER, OVER = "target", "under", "over"
Key = tuple[str, object]  # ("block", kernel name) or ("file", file id)


@dataclass(frozen=True, slots=True)
class LoopBacking:
    """What one attached loop device reads and writes."""

    path: str  # as sysfs shows it (a lazily unmounted file system's paths lose their prefix)
    devno: DevNo | None = None  # when the backing is a block device
    file_id: FileId | None = None  # when it is a regular file: (st_dev, st_ino)
    fs: DevNo | None = None  # the device of the file system that file lives in


@dataclass(frozen=True, slots=True)
class Layer:
    """One block device or file in a target's storage stack."""

    kind: str  # "block" | "file"
    name: str  # kernel name ("loop0", "dm-1") or the file's path
    direction: str  # TARGET | UNDER | OVER
    relation: str = ""  # how it was reached, e.g. "backing device of /dev/loop1"
    via: str = ""  # "slave" | "backing" | "partition" | "disk" | "holder" | "loop" | "fsloop"
    parent: Key | None = None  # the key of the layer it was reached from
    devno: DevNo | None = None
    file_id: FileId | None = None

    @property
    def node(self) -> str:
        """The device node or file path."""
        return f"/dev/{self.name}" if self.kind == "block" else self.name

    @property
    def label(self) -> str:
        """The node with its relation to the target, for refusal messages."""
        return f"{self.node} ({self.relation})" if self.relation else self.node


@dataclass
class Survey:
    """One snapshot of what the kernel says about mounts, swap, loop devices and openers."""

    mounts: dict[DevNo, list[str]]
    swap_names: set[str]
    swap_files: set[FileId]
    system: dict[str, str]
    loops: dict[str, LoopBacking]
    _open: OpenTable | None = field(default=None, repr=False)

    @classmethod
    def take(cls) -> Survey:
        """Read the current state (the descriptor scan waits until it is first needed)."""
        mounts = mount_table()
        return cls(
            mounts=mounts,
            swap_names=set(swap_devices()),
            swap_files={fid for fid in map(_file_id, swap_files()) if fid is not None},
            system=system_device_names(mounts),
            loops=attached_loops(),
        )

    @property
    def open(self) -> OpenTable:
        """Every other process's open descriptors (scanned once per survey)."""
        if self._open is None:
            self._open = OpenTable.scan()
        return self._open


def attached_loops() -> dict[str, LoopBacking]:
    """Every attached loop device and its backing, from sysfs and a stat of the backing path."""
    loops: dict[str, LoopBacking] = {}
    for name in list_disk_names():
        if not name.startswith("loop"):
            continue
        raw = read_sysfs(SYS_BLOCK / name, "loop/backing_file")
        if not raw:
            continue
        path = strip_deleted(raw) or raw
        try:
            st = os.stat(path) if raw == path else None  # a deleted file cannot be stat'ed
        except OSError:
            st = None
        if st is not None and stat.S_ISBLK(st.st_mode):
            devno = (os.major(st.st_rdev), os.minor(st.st_rdev))
            loops[name] = LoopBacking(path, devno=devno)
        elif st is not None and stat.S_ISREG(st.st_mode):
            fs = (os.major(st.st_dev), os.minor(st.st_dev))
            loops[name] = LoopBacking(path, file_id=(st.st_dev, st.st_ino), fs=fs)
        else:
            loops[name] = LoopBacking(path)
    return loops


def resolve(facts: BlockFacts, survey: Survey) -> dict[Key, Layer]:
    """Every layer of the stack around `facts`' target, by key, the target's own layers first."""
    walk = _Walk(survey)
    if facts.kind == "image":
        walk.file(facts.path, TARGET, "", "")
    elif facts.sysfs_path:
        walk.block(facts.name, TARGET, "", "")
    return walk.layers


class _Walk:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.layers: dict[Key, Layer] = {}

    def block(
        self, name: str, direction: str, relation: str, via: str, parent: Key | None = None
    ) -> None:
        key = ("block", name)
        if key in self.layers or not (SYS_BLOCK / name).exists():
            return
        devno = devno_of(name)
        self.layers[key] = Layer("block", name, direction, relation, via, parent, devno=devno)
        node = f"/dev/{name}"
        directory = (SYS_BLOCK / name).resolve()
        is_partition = (directory / "partition").exists()
        if direction in (TARGET, UNDER):
            self._downwards(key, node, directory, direction, is_partition)
        elif not is_partition:
            for part in _partitions(directory):
                self.block(part, OVER, f"partition of {node}", "partition", key)
        for holder in children(name, "holders"):
            self.block(holder.name, OVER, f"holder of {node}", "holder", key)
        for loop, backing in self.survey.loops.items():
            if devno is not None and backing.devno == devno:
                self.block(loop, OVER, f"loop device on {node}", "loop", key)
            elif devno is not None and backing.fs == devno:
                relation = f"backed by {backing.path} in the file system on {node}"
                self.block(loop, OVER, relation, "fsloop", key)

    def _downwards(
        self, key: Key, node: str, directory: Path, direction: str, is_partition: bool
    ) -> None:
        name = directory.name
        for slave in children(name, "slaves"):
            self.block(slave.name, UNDER, f"under {node}", "slave", key)
        backing = self.survey.loops.get(name)
        if backing is not None and backing.devno is not None:
            lower = name_of(backing.devno)
            if lower:
                self.block(lower, UNDER, f"backing device of {node}", "backing", key)
        elif backing is not None and backing.file_id is not None:
            self.file(backing.path, UNDER, f"backing file of {node}", "backing", key)
        if is_partition:
            self.block(directory.parent.name, OVER, f"disk holding {node}", "disk", key)
            return
        relation = f"partition of {node}" if direction == UNDER else ""
        for part in _partitions(directory):
            self.block(part, direction, relation, "partition", key)

    def file(
        self, path: str, direction: str, relation: str, via: str, parent: Key | None = None
    ) -> None:
        file_id = _file_id(path)
        key: Key = ("file", file_id or path)
        if key in self.layers:
            return
        self.layers[key] = Layer("file", path, direction, relation, via, parent, file_id=file_id)
        if file_id is None:
            return
        for loop, backing in self.survey.loops.items():
            if backing.file_id == file_id:
                self.block(loop, OVER, f"loop device on {path}", "loop", key)


def _partitions(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in directory.iterdir() if (p / "partition").exists())
    except OSError:
        return []


def _file_id(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
