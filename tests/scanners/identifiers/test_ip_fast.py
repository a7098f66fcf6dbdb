"""The dotted-quad shortcut of `ip.parse` against the standard `ipaddress` module."""

from __future__ import annotations

import random

from scanners.identifiers import ip


def test_dotted_quad_shortcut_agrees_with_ipaddress() -> None:
    rng = random.Random(18)
    octets = ["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "250", "255", "256",
              "299", "300", "999", "1000", "٣", "", " 1", "+1", "1_0"]  # fmt: skip
    accepted = 0
    for _ in range(40_000):
        value = ".".join(rng.choice(octets) for _ in range(rng.choice((3, 4, 4, 4, 5))))
        fast, general = ip.parse(value), ip._parse_general(value)
        assert fast == general, value
        accepted += fast is not None
    assert accepted > 800  # both outcomes well covered
    for value in ("0.0.0.0", "255.255.255.255", "127.0.0.1", "192.0.2.1", "1.2.3.04", "::1"):
        assert ip.parse(value) == ip._parse_general(value), value
