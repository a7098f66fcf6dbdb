"""IPv4 and IPv6 addresses, checked by the standard `ipaddress` module (which is right)."""

from __future__ import annotations

import ipaddress


def parse(value: str) -> str | None:
    """The canonical form of an IPv4 or IPv6 address, else None.

    IPv4 in dotted quad without leading zeros; `0.0.0.0` and `255.255.255.255` are no one's
    address and give None.
    """
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if addr.is_unspecified or (addr.version == 4 and addr == ipaddress.IPv4Address(0xFFFFFFFF)):
        return None
    return str(addr)


def is_valid(value: str) -> bool:
    """True for an IPv4 or IPv6 address that can belong to someone."""
    return parse(value) is not None
