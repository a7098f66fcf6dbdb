"""Candidates that cannot be values never reach Python (issue 18 part 3).

A postfix log line holds a clock time (`00:00:00`) and a hex queue id followed by a colon; before
the IPv6 pattern wanted `::` or eight groups, every such line sent two IPv6 candidates to Python,
each rejected there by `ipaddress`.
"""

from __future__ import annotations

import pytest

from scanners import engines
from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher

LOG = (
    "Dec  3 00:00:00 mx1 postfix/smtpd[4711]: 4F2A81C0D3: client=mail.example.se[192.0.2.10]\n"
    "Dec  3 00:00:01 mx1 postfix/qmgr[912]: 4F2A81C0D3: from=<anna.berg@example.se>, size=2211\n"
    "Dec  3 12:30:45 mx1 postfix/smtp[4720]: BEEF1234AB: to=<kund@example.com>, relay=mx2\n"
    "Interface 00:1a:2b:3c:4d:5e up, time 23:59:59.\n"
) * 200


@pytest.mark.parametrize("engine", engines.available())
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_times_queue_ids_and_macs_are_no_ipv6_candidates(engine: str, encoding: str) -> None:
    m = RawMatcher(ValueHasher(b"c" * 32), engine=engine)
    data = LOG.encode(encoding)
    if engine == "hyperscan":  # re and re2 try every kind at each start (see fastpath._starts)
        assert "ipv6" not in {m._compiled[i].kind.name for _, i in m._starts(data)}
    calls = []
    for plan, c in zip(m._plans, m._compiled, strict=True):
        if c.kind.name == "ipv6":
            rule = plan._rule
            plan._rule = lambda *a, rule=rule: calls.append(a) or rule(*a)
    found = {f.category for f in m.scan(data)}
    assert calls == []  # no IPv6 candidate reached its rule in Python
    assert found == {"email", "ip_address"}


@pytest.mark.parametrize("engine", engines.available())
def test_real_ipv6_addresses_are_still_candidates(engine: str) -> None:
    m = RawMatcher(ValueHasher(b"c" * 32), engine=engine)
    text = (
        "host 2001:db8::1, fe80::1ff:fe23:4567:890a och 2001:db8:0:0:1:0:0:1 samt ::ffff:192.0.2.1."
    )
    data = text.encode()
    values = [data[f.offset : f.offset + f.length].decode() for f in m.scan(data)]
    assert values == [
        "2001:db8::1",
        "fe80::1ff:fe23:4567:890a",
        "2001:db8:0:0:1:0:0:1",
        "::ffff:192.0.2.1",
    ]


def test_postal_addresses_in_ascii_windows_read_as_in_utf8() -> None:
    """A postal candidate whose window is ASCII is judged from one Latin-1 reading; it must give
    what the UTF-8 reading (`Plan._decoded`) gives. Tried: 4,000 buffers of streets, boxes, c/o
    lines, postnummer and places in ASCII, with UTF-8 letters in some (those take `_decoded`
    itself), at every start."""
    import random

    from scanners.candidate import Plan
    from scanners.patterns import compile_kinds

    plan = next(Plan(c) for c in compile_kinds() if c.kind.name == "postal" and not c.wide)
    rng = random.Random(4)
    streets = ["Storgatan 12", "Kungsgatan 3B", "Box 123", "c/o Berg", "Main Street 7", "Torget"]
    glue = [", ", " ", "\n", ",  ", " \t", ";", "  x "]
    codes = ["123 45", "12345", "SE-123 45", "023 45", "99999", "123 456"]
    places = ["Stad", "Kiruna", "Stora Mellby", "Ystad-Nord", "stad", "Göteborg", "Umeå"]
    accepted = ascii_windows = 0
    for _ in range(4000):
        text = "".join(
            rng.choice(streets) + rng.choice(glue) + rng.choice(codes) + rng.choice(glue)
            + rng.choice(places) + rng.choice([" ", "\n", ". "])
            for _ in range(rng.randint(1, 4))
        )  # fmt: skip
        data = text.encode()
        for start in range(len(data)):
            m = plan._core(data, start)
            if m is None:
                continue
            got = plan._judge(data, start, m.end(), 0)
            assert got == plan._decoded(data, start, m.end(), 0), (text, start)
            accepted += got is not None
            ascii_windows += data[max(0, start - 96) : m.end() + 64].isascii()
    assert accepted > 2000
    assert ascii_windows > 1500
