"""A shell on the guest's serial line: send a command, get its output and exit code back."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

# A canonical-mode tty takes at most 4095 characters per line; longer commands go via a file.
MAX_LINE = 3500


class ConsoleError(Exception):
    """The guest did not answer in time, or its console closed."""


@dataclass(frozen=True, slots=True)
class Result:
    """What one command printed (stdout and stderr together) and its exit code."""

    cmd: str
    output: str
    rc: int
    seconds: float
    stderr: str = ""  # only when the caller kept stderr apart (Guest.cli)

    def check(self) -> Result:
        """Return self, or raise when the command failed (with its output in the message)."""
        if self.rc != 0:
            raise ConsoleError(
                f"guest command failed (rc {self.rc}): {self.cmd}\n{self.output}{self.stderr}"
            )
        return self


class SerialConsole:
    """The guest's ttyS0 as QEMU exposes it on a unix socket (server=on,wait=on)."""

    def __init__(self, path: Path, *, connect_timeout: float = 30.0) -> None:
        self._sock = _connect(path, connect_timeout)
        self._buf = b""
        self._count = 0
        self.transcript: list[str] = []  # everything the guest printed, for failure reports
        self.script_dir: Path | None = None  # host side of a share, for over-long commands
        self.script_dir_guest: str = ""

    def read_until(self, pattern: bytes, timeout: float) -> re.Match[bytes]:
        """Read until `pattern` (a regex) matches; consume up to the end of the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self._buf)
            if match:
                self._buf = self._buf[match.end() :]
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = self._buf[-2000:].decode(errors="replace")
                raise ConsoleError(f"no {pattern!r} from the guest within {timeout} s:\n{tail}")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                tail = self._buf[-2000:].decode(errors="replace")
                raise ConsoleError(f"guest console closed:\n{tail}")
            self.transcript.append(chunk.decode(errors="replace"))
            self._buf += chunk

    def run(self, cmd: str, *, timeout: float = 120.0) -> Result:
        """Run `cmd` in the guest shell (stdin from /dev/null, stderr into the output)."""
        if len(cmd) > MAX_LINE or "\n" in cmd:
            return self._run_as_script(cmd, timeout)
        self._count += 1
        marker = f"__LAB_END_{self._count}_"
        start = time.monotonic()
        line = f"{{ {cmd}\n}} </dev/null 2>&1; echo {marker}$?__\n"
        self._sock.sendall(line.encode())
        match = self.read_until(re.escape(marker).encode() + rb"(\d+)__\n", timeout)
        # Everything before the marker in the consumed text belongs to this command.
        output = self._last_output(match)
        return Result(cmd, output, int(match.group(1)), time.monotonic() - start)

    def close(self) -> None:
        """Close the socket (the guest's shell does not notice: a UART has no EOF)."""
        self._sock.close()

    def _last_output(self, match: re.Match[bytes]) -> str:
        consumed = match.string[: match.start()]
        previous = consumed.rfind(b"__LAB_END_")
        if previous >= 0:  # stale text of an earlier timed-out command
            consumed = consumed[consumed.index(b"__\n", previous) + 3 :]
        return consumed.decode(errors="replace")

    def _run_as_script(self, cmd: str, timeout: float) -> Result:
        if self.script_dir is None:
            raise ConsoleError("multi-line command but no shared script directory is set")
        self._count += 1
        name = f"cmd-{self._count}.sh"
        (self.script_dir / name).write_text(cmd + "\n")
        result = self.run(f"sh {self.script_dir_guest}/{name}", timeout=timeout)
        return Result(cmd, result.output, result.rc, result.seconds)


def _connect(path: Path, timeout: float) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise ConsoleError(f"QEMU did not open {path} within {timeout} s") from None
            time.sleep(0.05)
            continue
        return sock
