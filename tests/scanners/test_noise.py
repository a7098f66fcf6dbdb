"""Random, encrypted and compressed bytes hold no personal data: the detectors find none.

An AES-CTR wipe pattern, /dev/urandom and xz output look alike to the detectors. Before issue 14
part 5, 64 MiB of this AES-CTR keystream gave 3 e-mail addresses and 256 MiB of urandom about 6;
`bench/noise_bench.py` measures the same per GiB.
"""

from __future__ import annotations

import lzma
import os
import random

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from scanners.fastpath import RawMatcher
from scanners.findings import ValueHasher

MiB = 1 << 20
CHUNK = 16 * MiB
MATCHER = RawMatcher(ValueHasher(b"z" * 32))


def _findings(blocks) -> list:
    found, offset = [], 0
    for block in blocks:
        found += MATCHER.scan(block, offset)
        offset += len(block)
    assert offset > 0
    return [(f.category, f.offset) for f in found]


def test_aes_ctr_keystream_gives_nothing() -> None:
    enc = Cipher(algorithms.AES(b"\x01" * 32), modes.CTR(b"\0" * 16)).encryptor()
    assert _findings(enc.update(bytes(CHUNK)) for _ in range(64 * MiB // CHUNK)) == []


def test_urandom_gives_nothing() -> None:
    assert _findings(os.urandom(CHUNK) for _ in range(256 * MiB // CHUNK)) == []


def test_xz_of_text_full_of_values_gives_nothing() -> None:
    """Compressed documents: the values are in there, but only the decoded text shows them."""
    rng = random.Random(5)
    words = [b"personnummer", b"811218-9876", b"anna.berg@example.se", b"tel", b"070-123 45 67",
             b"IBAN", b"SE45 5000 0000 0583 9825 7466", b"kort", b"4111 1111 1111 1111",
             b"plusgiro", b"28 65 53-3", b"IP", b"192.168.1.20"]  # fmt: skip
    out = []
    size = 0
    while size < 24 * MiB:
        text = b" ".join(
            rng.choice(words) + rng.randbytes(rng.randint(1, 12)) for _ in range(50_000)
        )
        packed = lzma.compress(text, preset=0)
        out.append(packed)
        size += len(packed)
    assert _findings(out) == []
