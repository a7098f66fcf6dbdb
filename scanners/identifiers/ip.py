"""IPv4 and IPv6 addresses, checked by the standard `ipaddress` module (which is right)."""

from __future__ import annotations

import ipaddress
import re

# A dotted quad of ASCII digits; each octet is then checked by hand (no leading zero, at most
# 255), as `ipaddress` would, at a tenth of its cost: a mail log holds one per line.
_DOTTED_QUAD = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")


def parse(value: str) -> str | None:
    """The canonical form of an IPv4 or IPv6 address, else None.

    IPv4 in dotted quad without leading zeros; `0.0.0.0` and `255.255.255.255` are no one's
    address and give None.
    """
    m = _DOTTED_QUAD.fullmatch(value)
    if m is not None:
        for octet in m.groups():
            if (octet[0] == "0" and len(octet) > 1) or int(octet) > 255:
                return None
        return None if value in ("0.0.0.0", "255.255.255.255") else value
    return _parse_general(value)


def _parse_general(value: str) -> str | None:
    """`parse` through `ipaddress`: IPv6, and anything that is not a plain dotted quad."""
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
