"""The guest's kernel and a tiny initramfs (busybox + virtio/9p modules), cached by content hash.

The guest runs the host's own userspace (chrooted into the host root shared over 9p), so the
initramfs only needs enough to mount that share: 1-2 MB, built in well under a second.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
INIT_SCRIPT = Path(__file__).with_name("init.sh")
# Loaded from the initramfs, before the host root is reachable; everything else is modprobed
# from the host's module tree inside the chroot.
EARLY_MODULES = ("virtio_pci", "9pnet_virtio", "9p")


def find_kernel() -> tuple[Path, str] | None:
    """The newest Debian kernel in /boot whose module tree is installed, as (vmlinuz, version)."""
    found: list[tuple[tuple[int, ...], Path, str]] = []
    for vmlinuz in Path("/boot").glob("vmlinuz-*"):
        version = vmlinuz.name.removeprefix("vmlinuz-")
        if (Path("/lib/modules") / version / "modules.dep").exists() and os.access(
            vmlinuz, os.R_OK
        ):
            key = tuple(int(x) for x in "".join(c if c.isdigit() else " " for c in version).split())
            found.append((key, vmlinuz, version))
    if not found:
        return None
    _, vmlinuz, version = max(found)
    return vmlinuz, version


def module_paths(version: str, names: tuple[str, ...] = EARLY_MODULES) -> list[Path]:
    """Module files for `names` and their dependencies, dependencies first, no duplicates."""
    paths: list[Path] = []
    for name in names:
        out = subprocess.run(
            ["modprobe", "-S", version, "--show-depends", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts[:1] == ["insmod"] and Path(parts[1]) not in paths:
                paths.append(Path(parts[1]))
    return paths


def build_initramfs(cache_dir: Path, version: str) -> Path:
    """Return a cached initramfs for kernel `version`, building it when its inputs changed."""
    modules = module_paths(version)
    digest = hashlib.sha256()
    for part in (INIT_SCRIPT, Path(__file__), BUSYBOX, *modules):
        digest.update(str(part).encode() + b"\0" + part.read_bytes())
    out = cache_dir / f"initramfs-{version}-{digest.hexdigest()[:16]}.cpio.gz"
    if out.exists():
        return out
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = _Newc()
    for directory in ("bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"):
        archive.directory(directory)
    archive.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox":
            archive.symlink(f"bin/{applet}", "busybox")
    order: list[str] = []
    for module in modules:
        inside = f"lib/modules/{module.name}"
        archive.file(inside, module.read_bytes(), 0o644)
        order.append(f"/{inside}")
    archive.file("modules.order", ("\n".join(order) + "\n").encode(), 0o644)
    archive.file("init", INIT_SCRIPT.read_bytes(), 0o755)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(gzip.compress(archive.finish(), compresslevel=1))
    tmp.replace(out)  # atomic: a parallel session sees the whole file or none
    return out


def tools_missing() -> list[str]:
    """Host programs the lab needs that are not installed."""
    needed = ("qemu-system-x86_64", "modprobe", "mkfs.ext4")
    missing = [name for name in needed if shutil.which(name) is None]
    if not BUSYBOX.exists():
        missing.append(str(BUSYBOX))
    return missing


class _Newc:
    """A writer for the cpio "newc" format the kernel unpacks (stdlib has none)."""

    def __init__(self) -> None:
        self._buf = io.BytesIO()
        self._ino = 1

    def directory(self, name: str) -> None:
        self._entry(name, 0o040755, b"")

    def file(self, name: str, data: bytes, mode: int) -> None:
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, 0o120777, target.encode())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0, b"")
        return self._buf.getvalue()

    def _entry(self, name: str, mode: int, data: bytes) -> None:
        encoded = name.encode() + b"\0"
        fields = (self._ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self._ino += 1
        self._write_padded(header + encoded)
        self._write_padded(data)

    def _write_padded(self, chunk: bytes) -> None:
        self._buf.write(chunk)
        self._buf.write(b"\0" * (-len(chunk) % 4))
