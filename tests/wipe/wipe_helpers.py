"""Shared test helpers for the wipe tests: independent expected content, tmpfs mounts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wipe import Pattern

MiB = 1024 * 1024


def expected_bytes(pattern: Pattern, size: int) -> bytes:
    """The pattern over [0, size), computed straight from `cryptography` (not via wipe)."""
    if pattern.name == "zeros":
        return bytes(size)
    if pattern.name == "ones":
        return b"\xff" * size
    counter = pattern.iv.to_bytes(16, "big")
    return Cipher(algorithms.AES(pattern.key), modes.CTR(counter)).encryptor().update(bytes(size))


def read_all(path: Path | str) -> bytes:
    """Every byte of a device or file, through the page cache (a path independent of wipe)."""
    with open(path, "rb") as f:
        return f.read()


def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
