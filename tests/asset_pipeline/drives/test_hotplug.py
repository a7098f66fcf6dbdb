"""The hot-plug primitive sees a loop device the test attaches and detaches."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from asset_pipeline.drives.hotplug import BlockEvent, block_events
from tests.conftest import MiB, needs_loop


@needs_loop
def test_attach_and_detach_are_seen(tmp_path: Path) -> None:
    image = tmp_path / "hot.img"
    image.write_bytes(b"\0" * MiB)
    events: list[BlockEvent] = []
    stream = block_events(timeout=3)  # subscribed from here on
    thread = threading.Thread(target=lambda: events.extend(stream))
    thread.start()
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["losetup", "-d", dev], check=True)
    thread.join(10)
    name = Path(dev).name
    mine = [e for e in events if e.name == name]
    assert mine, f"no event for {name} among {events}"
    assert {e.action for e in mine} <= {"add", "change", "remove"}
    assert all(e.path == dev and e.devtype == "disk" for e in mine)
