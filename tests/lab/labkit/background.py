"""A project CLI command left running in the guest (`watch`), its output read back while it runs.

The command's stdout, stderr, pid and exit code go to files on the scratch share, so the host
reads its JSON lines as they are written, without the serial console (which stays free for
other commands) and without waiting for the command to end.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.console import ConsoleError
from labkit.guest import SCRATCH_IN_GUEST

if TYPE_CHECKING:
    from labkit.guest import Guest

Line = dict[str, Any]

SCRIPT = """cd {project} || exit 1
ASSET_PIPELINE_HOME={home} {python} -m asset_pipeline {words} >{out} 2>{err} &
echo $! >{pid}
wait $!
echo $? >{rc}
"""


class BackgroundCli:
    """`python -m asset_pipeline ARGS` started in the background in the guest."""

    def __init__(self, guest: Guest, name: str, *args: str, home: str = "/tmp/station") -> None:
        self.guest = guest
        self.name = name
        host = {kind: guest.scratch / f"{name}.{kind}" for kind in ("out", "err", "pid", "rc")}
        for path in host.values():
            path.unlink(missing_ok=True)
        self._files = host
        in_guest = {kind: f"{SCRATCH_IN_GUEST}/{name}.{kind}" for kind in host}
        (guest.scratch / f"{name}.sh").write_text(
            SCRIPT.format(
                project=shlex.quote(str(guest.project or "/")),
                home=shlex.quote(home),
                python=shlex.quote(guest.python),
                words=" ".join(shlex.quote(a) for a in args),
                **in_guest,
            )
        )
        self.started = time.monotonic()
        guest.run(f"sh {SCRATCH_IN_GUEST}/{name}.sh >/dev/null 2>&1 &").check()

    def lines(self) -> list[Line]:
        """Every complete JSON line the command has printed so far."""
        path = self._files["out"]
        text = path.read_text(errors="replace") if path.exists() else ""
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def wait_for(self, match: Callable[[Line], bool], timeout: float, *, after: int = 0) -> Line:
        """The first line (from index `after` on) that `match`es, polling until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            for line in lines[after:]:
                if match(line):
                    return line
            if self.exit_code() is not None:
                lines = self.lines()  # it may have printed the line just before it ended
                found = [line for line in lines[after:] if match(line)]
                if found:
                    return found[0]
                raise ConsoleError(f"{self.name} ended without the line:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise ConsoleError(
                    f"no matching line from {self.name} within {timeout} s; last lines: "
                    f"{lines[-5:]}\n{self.stderr()[-2000:]}"
                )
            time.sleep(0.05)

    def wait(self, timeout: float) -> int:
        """Wait for the command to end; its exit code."""
        deadline = time.monotonic() + timeout
        while (rc := self.exit_code()) is None:
            if time.monotonic() > deadline:
                raise ConsoleError(f"{self.name} still runs after {timeout} s:\n{self.stderr()}")
            time.sleep(0.1)
        return rc

    def exit_code(self) -> int | None:
        """The exit code once the command has ended, else None."""
        text = self._read("rc").strip()
        return int(text) if text else None

    def stderr(self) -> str:
        """What the command printed on stderr so far."""
        return self._read("err")

    def stop(self) -> None:
        """End the command (SIGTERM, then SIGKILL) if it still runs."""
        pid = self._read("pid").strip()
        if pid and self.exit_code() is None:
            self.guest.run(f"kill {pid} 2>/dev/null; sleep 2; kill -9 {pid} 2>/dev/null; true")

    def _read(self, kind: str) -> str:
        path: Path = self._files[kind]
        return path.read_text(errors="replace") if path.exists() else ""
