"""Hot-plug events for block devices, as a generator the station's watch loop consumes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyudev

from asset_pipeline.drives.discovery import udev_running


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """One add/remove/change of a block device (disk or partition)."""

    action: str  # add | remove | change | ...
    name: str  # kernel name, e.g. "sdb" or "loop3"
    path: str  # /dev/<name>
    devtype: str  # disk | partition
    serial: str = ""


class BlockMonitor:
    """A subscription to block-device events, polled by the caller (the watch loop).

    Listens to udevd's enriched events when udevd runs, else straight to the kernel's netlink
    socket (this is how it works on stations and test machines without udevd). The socket is
    subscribed when the monitor is made, so nothing that happens afterwards is missed.
    """

    def __init__(self) -> None:
        context = pyudev.Context()
        source = "udev" if udev_running() else "kernel"
        self._monitor = pyudev.Monitor.from_netlink(context, source=source)
        self._monitor.filter_by("block")
        self._monitor.start()

    def poll(self, timeout: float | None = None) -> BlockEvent | None:
        """The next event, or None when `timeout` seconds pass without one."""
        device = self._monitor.poll(timeout=timeout)
        if device is None:
            return None
        props = device.properties
        return BlockEvent(
            action=device.action or "",
            name=device.sys_name,
            path=device.device_node or f"/dev/{device.sys_name}",
            devtype=device.device_type or "",
            serial=props.get("ID_SERIAL_SHORT", "") or props.get("ID_SERIAL", ""),
        )


def block_events(*, timeout: float | None = None) -> Iterator[BlockEvent]:
    """Start listening now and return an iterator over block-device events.

    Args:
        timeout: stop after this many seconds without an event; None waits forever.
    """
    monitor = BlockMonitor()
    return _events(monitor, timeout)


def _events(monitor: BlockMonitor, timeout: float | None) -> Iterator[BlockEvent]:
    while (event := monitor.poll(timeout)) is not None:
        yield event
