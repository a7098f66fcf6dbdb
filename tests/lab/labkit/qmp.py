"""A minimal QMP client: commands in, replies out, asynchronous events kept for waiting on."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class QmpError(Exception):
    """QEMU answered a command with an error, or did not answer."""


class Qmp:
    """One QMP session on QEMU's unix socket (`-qmp unix:PATH,server=on,wait=off`)."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise QmpError(f"QEMU did not open {path} within {timeout} s") from None
                time.sleep(0.05)
        self._file = self._sock.makefile("rb")
        self.events: list[dict[str, Any]] = []
        self._read(timeout)  # the greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, timeout: float = 30.0, **arguments: Any) -> Any:
        """Run `command` and return its "return" value; raise QmpError on an "error" reply."""
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read(timeout)
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            elif "return" in reply:
                return reply["return"]

    def wait_event(
        self,
        name: str,
        *,
        match: Callable[[dict[str, Any]], bool] = lambda _e: True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Return (and remove) the first event called `name` that `match`es, waiting if needed."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name and match(event):
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QmpError(f"no {name} event within {timeout} s (have {self.events})")
            reply = self._read(remaining)
            if "event" in reply:
                self.events.append(reply)

    def close(self) -> None:
        """Close the session (QEMU keeps running)."""
        self._file.close()
        self._sock.close()

    def _read(self, timeout: float) -> dict[str, Any]:
        self._sock.settimeout(timeout)
        try:
            line = self._file.readline()
        except TimeoutError as e:
            raise QmpError(f"no reply from QEMU within {timeout} s") from e
        if not line:
            raise QmpError("QEMU closed the QMP socket")
        return json.loads(line)
