"""Writing a file so that readers see the old content or the whole new one, never a part."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o644, *, replace: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then move it into place.

    Args:
        path: the file to write.
        data: its new content.
        mode: the file's permission bits (set after creation, so the umask cannot narrow them).
        replace: False links the file into place instead, failing with FileExistsError when
            `path` exists (two processes creating the station key: the first one wins).

    Raises:
        OSError: the file could not be written (FileExistsError as above).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.chmod(mode)
        if replace:
            tmp.replace(path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
