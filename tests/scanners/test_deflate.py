"""The raw pass's inflater (zlib-ng where installed) against zlib itself, the oracle.

zlib-ng inflates mail logs twice as fast as zlib. The raw pass uses it only because it gives the
same result in every way the pass reads one: the same output in the same pieces under an output
limit, the same verdict on damaged input (where zlib fails, it fails, with the output before),
the same end of stream and the same bytes after it.
"""

from __future__ import annotations

import random
import zlib

import pytest

from scanners import deflate

WORDS = [
    "postfix/smtp",
    "to=<kund7.berg@example.se>",
    "relay=mx.example.net[10.0.3.4]:25",
    "delay=0.85",
    "status=sent",
    "(250 2.0.0 Ok: queued as 64BEA372DB8F)",
    "Mar",
    "mx1",
]


def _text(rng: random.Random, size: int) -> bytes:
    lines, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + "\n"
        lines.append(line)
        n += len(line)
    return "".join(lines).encode()[:size]


def _inflate(decompressobj, errors, data: bytes, wbits: int, max_length: int, chunk: int):  # type: ignore[no-untyped-def]
    """Inflate as `inflate.Inflation` does: pieces of input, a bound on each piece of output."""
    inflater = decompressobj(wbits)
    out, pos = [], 0
    try:
        while not inflater.eof:
            piece = inflater.unconsumed_tail
            if not piece:
                piece = data[pos : pos + chunk]
                pos += len(piece)
                if not piece:
                    break
            out.append(inflater.decompress(piece, max_length))
    except errors:
        return out, "error", inflater.eof, b""
    return out, "ok", inflater.eof, inflater.unused_data


def _damaged(rng: random.Random, packed: bytes) -> bytes:
    data = bytearray(packed)
    how = rng.randrange(5)
    if how == 0:  # cut
        del data[rng.randrange(len(data)) :]
    elif how == 1:  # bits flipped
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif how == 2:  # another file's bytes after the stream
        data += rng.randbytes(rng.randint(1, 100))
    elif how == 3:  # a span overwritten
        at = rng.randrange(len(data))
        data[at : at + rng.randint(1, 50)] = rng.randbytes(20)
    return bytes(data)  # how == 4: intact


def test_the_raw_pass_inflates_with_zlib_ng_where_it_is_installed() -> None:
    from zlib_ng import zlib_ng

    assert deflate.decompressobj is zlib_ng.decompressobj
    assert zlib.error in deflate.ERRORS
    assert zlib_ng.error in deflate.ERRORS


@pytest.mark.parametrize("seed", range(3))
def test_zlib_ng_inflates_damaged_streams_exactly_as_zlib(seed: int) -> None:
    """Tried: 3 x 600 streams (gzip, zlib, raw deflate; levels 1-9; up to 200 KB of log text)
    cut, with bits flipped, with bytes after them, overwritten or intact, read in pieces of
    100 B to 1 MiB under output limits of 4 KiB to 1 MiB: every result equal to zlib's."""
    rng = random.Random(seed)
    verdicts = set()
    for _ in range(600):
        text = _text(rng, rng.randint(1, 200_000))
        wbits = rng.choice([15, 31, -15])
        packer = zlib.compressobj(rng.randint(1, 9), zlib.DEFLATED, wbits)
        data = _damaged(rng, packer.compress(text) + packer.flush())
        max_length = rng.choice([0, 4096, 65536, 1 << 20])
        chunk = rng.choice([100, 4096, 1 << 20])
        want = _inflate(zlib.decompressobj, zlib.error, data, wbits, max_length, chunk)
        got = _inflate(deflate.decompressobj, deflate.ERRORS, data, wbits, max_length, chunk)
        assert got == want
        verdicts.add((want[1], want[2]))
    assert verdicts >= {("ok", True), ("ok", False), ("error", False)}
