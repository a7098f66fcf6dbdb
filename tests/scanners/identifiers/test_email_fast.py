"""The ASCII shortcut of `email.parse` against its general path, on addresses built to sit at
every edge the general path checks (label lengths, hyphens, dots, `--`, TLD shape, lengths)."""

from __future__ import annotations

import random

from scanners.identifiers import email

PIECES = [
    "a", "Z", "0", "9", "-", "_", ".", "..", "+", "'", "`", "~", "!", "#", "|", "{", "}", "@",
    "xn--", "--", "se", "COM", "Se", "x" * 63, "y" * 64, "q" * 30, "1" * 5, "é", " ", "\t",
]  # fmt: skip


PLAIN = ["a", "Z", "0", "9", "ab", "se", "x1"]


def _random_address(rng: random.Random) -> str:
    def piece() -> str:  # half plain letters and digits, so that many addresses are well-formed
        return rng.choice(PLAIN) if rng.random() < 0.6 else rng.choice(PIECES)

    def part(n: int) -> str:
        return "".join(piece() for _ in range(rng.randint(0, n)))

    labels = [part(3) for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.5:
        labels[-1] = rng.choice(["se", "com", "Nu", "X", "a1", "xn--p1ai", "xn--zz", "museum"])
    return part(4) + "@" + ".".join(labels)


def test_ascii_shortcut_agrees_with_the_general_path() -> None:
    rng = random.Random(2026)
    tried = accepted = 0
    for _ in range(60_000):
        value = _random_address(rng)
        if not value.isascii():
            continue
        tried += 1
        fast, general = email.parse(value), email._parse_general(value)
        assert fast == general, value
        accepted += fast is not None
    assert tried > 30_000  # both outcomes well covered
    assert accepted > 1_000


def test_ascii_shortcut_edges() -> None:
    label63, label64 = "a" * 63, "a" * 64
    cases = [
        "anna@example.se",
        "Anna.Svensson@Example.SE",
        "a" * 64 + "@example.se",
        "a" * 65 + "@example.se",
        f"a@{label63}.se",
        f"a@{label64}.se",
        "a@" + ".".join([label63] * 3) + ".abcdefghijklmnopqrstuvw",  # 216 characters
        "a@" + ".".join([label63] * 4) + ".se",  # 257: over 253
        "a@-ex.se",
        "a@ex-.se",
        "a@e_x.se",
        "a@ab--cd.se",
        "a@xn--rksmrgs-5wao1o.se",
        "a@example.xn--p1ai",
        ".a@example.se",
        "a.@example.se",
        "a..b@example.se",
        "a@example.s",
        "a@example.s3",
        "a@example",
        "@example.se",
    ]
    for value in cases:
        assert email.parse(value) == email._parse_general(value), value


def test_a_local_part_that_fails_at_its_end_returns_at_once() -> None:
    """ReDoS: the old local-part pattern backtracked 2^n ways (22 letters: 1.1 s; 64: never).

    An alarm turns a hang into a failure instead of a stalled suite.
    """
    import signal

    def hung(signum, frame):  # noqa: ANN001, ANN202
        raise AssertionError("email.parse did not return within 10 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        for local in ("a" * 63 + " ", "ä" * 31 + " ", "a.b" * 21 + "!" + " ", "ab" * 31 + "\x00"):
            assert email.parse(local + "@example.se") is None
            assert email._parse_general(local + "@example.se") is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
