"""Hot-plug events for block devices, as a generator the station's watch loop consumes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyudev

from asset_pipeline.devices import udev_running


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """One add/remove/change of a block device (disk or partition)."""

    action: str  # add | remove | change | ...
    name: str  # kernel name, e.g. "sdb" or "loop3"
    path: str  # /dev/<name>
    devtype: str  # disk | partition
    serial: str = ""


def block_events(*, timeout: float | None = None) -> Iterator[BlockEvent]:
    """Start listening now and return an iterator over block-device events.

    Listens to udevd's enriched events when udevd runs, else straight to the kernel's netlink
    socket (this is how it works on stations and test machines without udevd). The socket is
    subscribed before this function returns, so nothing that happens after the call is missed.

    Args:
        timeout: stop after this many seconds without an event; None waits forever.
    """
    context = pyudev.Context()
    source = "udev" if udev_running() else "kernel"
    monitor = pyudev.Monitor.from_netlink(context, source=source)
    monitor.filter_by("block")
    monitor.start()
    return _events(monitor, timeout)


def _events(monitor: pyudev.Monitor, timeout: float | None) -> Iterator[BlockEvent]:
    while True:
        device = monitor.poll(timeout=timeout)
        if device is None:
            return
        props = device.properties
        yield BlockEvent(
            action=device.action or "",
            name=device.sys_name,
            path=device.device_node or f"/dev/{device.sys_name}",
            devtype=device.device_type or "",
            serial=props.get("ID_SERIAL_SHORT", "") or props.get("ID_SERIAL", ""),
        )
