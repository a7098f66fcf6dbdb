"""Overwrite patterns, each able to produce its bytes at any offset again.

The random pattern is the AES-256-CTR keystream under a key drawn from the OS for this run:
the keystream block for byte offset `o` is the encryption of counter `iv + o // 16`, so the
verifier regenerates exactly what was written at any sampled offset and no copy of the pattern
is ever stored. `cryptography` releases the GIL while it encrypts, so generation in one thread
overlaps with writing in another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wipe.target import aligned_buffer

PATTERNS = ("zeros", "ones", "random")
_BLOCK = 16


@dataclass(frozen=True, slots=True)
class Pattern:
    """What one overwrite pass writes. Build with `Pattern.zeros()`, `.ones()`, `.random()`."""

    name: str  # zeros | ones | random
    key: bytes = field(default=b"", repr=False)  # AES-256 key of a random pattern
    iv: int = 0  # initial 128-bit counter of a random pattern

    @classmethod
    def zeros(cls) -> Pattern:
        """All bytes 0x00."""
        return cls("zeros")

    @classmethod
    def ones(cls) -> Pattern:
        """All bytes 0xFF."""
        return cls("ones")

    @classmethod
    def random(cls, key: bytes | None = None, iv: int | None = None) -> Pattern:
        """AES-256-CTR keystream; key and counter come from the OS unless given."""
        key = os.urandom(32) if key is None else key
        if len(key) != 32:
            raise ValueError("an AES-256 key is 32 bytes")
        iv = int.from_bytes(os.urandom(16), "big") if iv is None else iv
        return cls("random", key, iv)

    @classmethod
    def named(cls, name: str, secret: bytes | None = None, index: int = 0) -> Pattern:
        """The pattern called `name`.

        Args:
            name: zeros | ones | random.
            secret: derive a random pattern's key and counter from this secret and `index`
                (HMAC-SHA256), so that the same pass can be regenerated after a crash from
                what the caller stored; None draws a fresh key from the OS.
            index: the pass number the derived key belongs to.
        """
        if name not in PATTERNS:
            raise ValueError(f"unknown pattern {name!r}; expected one of {', '.join(PATTERNS)}")
        if name != "random" or secret is None:
            return getattr(cls, name)()
        key = hmac.digest(secret, b"wipe-pattern:key:%d" % index, "sha256")
        iv = hmac.digest(secret, b"wipe-pattern:iv:%d" % index, "sha256")[:16]
        return cls.random(key, int.from_bytes(iv, "big"))

    @property
    def constant(self) -> int | None:
        """The single byte value of a constant pattern, None for the keystream."""
        return {"zeros": 0x00, "ones": 0xFF}.get(self.name)

    @property
    def key_id(self) -> str:
        """A fingerprint naming the key in results without revealing it."""
        if not self.key:
            return ""
        return hashlib.sha256(b"wipe-key-id" + self.key).hexdigest()[:16]

    def filler(self, size: int) -> PatternFiller:
        """A filler that writes this pattern into buffers of up to `size` bytes."""
        return PatternFiller(self, size)

    def describe(self) -> str:
        """Short human text ("zeros", "AES-256-CTR keystream")."""
        return "AES-256-CTR keystream" if self.name == "random" else self.name


class PatternFiller:
    """Fills buffers with a pattern's bytes for a given device offset.

    A constant pattern is a fixed buffer prepared once; callers that find `fixed` set can write
    it directly and skip `fill` entirely.
    """

    def __init__(self, pattern: Pattern, size: int) -> None:
        self.pattern = pattern
        self.size = size
        const = pattern.constant
        self.fixed: memoryview | None = None
        self._zeros = b""
        if const is not None:
            self.fixed = memoryview(bytes([const]) * size if const else bytes(size))
        else:
            self._zeros = bytes(size)  # the plaintext: encrypting zeros yields the keystream

    def fill(self, out: memoryview, offset: int) -> None:
        """Write the pattern's bytes for device range [offset, offset + len(out)) into `out`."""
        n = len(out)
        if self.fixed is not None:
            out[:] = self.fixed[:n] if n <= self.size else bytes(self.fixed[:1]) * n
            return
        start, skip = divmod(offset, _BLOCK)
        counter = (self.pattern.iv + start) % (1 << 128)
        encryptor = Cipher(
            algorithms.AES(self.pattern.key), modes.CTR(counter.to_bytes(16, "big"))
        ).encryptor()
        if skip == 0 and n <= len(self._zeros):
            encryptor.update_into(memoryview(self._zeros)[:n], out)
            return
        # Unaligned or oversized (small checks only): produce from the block start, then cut.
        data = encryptor.update(bytes(skip + n))
        out[:] = data[skip:]

    def expected(self, offset: int, length: int) -> bytes:
        """The pattern's bytes for a range, as a new bytes object (for small checks)."""
        buf = bytearray(length)
        self.fill(memoryview(buf), offset)
        return bytes(buf)


class PatternRing:
    """Aligned buffers filled ahead with a pattern, in device order, in a worker thread.

    A buffer is refilled only after `release()`, i.e. once the write from it has finished.

    A constant pattern is one prepared buffer that every write shares (writes only read it).
    """

    def __init__(self, filler: PatternFiller, size: int, chunk: int, depth: int) -> None:
        self.filler, self.size, self.chunk = filler, size, chunk
        self.next_offset = 0  # where the next buffer handed out starts
        self._fill_offset = 0  # where the next buffer to be filled starts
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[int, int, int, Future[None]]] = deque()
        if filler.fixed is not None:
            fixed = aligned_buffer(chunk)  # O_DIRECT needs aligned memory, bytes is not
            fixed[: len(filler.fixed)] = filler.fixed
            self._views = [memoryview(fixed)]
            self._free: deque[int] = deque()
            return
        # The mmaps are freed with their last view; closing them could race a writer thread.
        self._views = [memoryview(aligned_buffer(chunk)) for _ in range(depth)]
        self._free = deque(range(depth))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keystream")
        self._fill_more()

    def get(self) -> tuple[int, memoryview, int] | None:
        """The next filled buffer in device order as (offset, view, index), None at the end."""
        if self.next_offset >= self.size:
            return None
        n = min(self.chunk, self.size - self.next_offset)
        if self._pool is None:
            item = (self.next_offset, self._views[0][:n], 0)
        else:
            self._fill_more()
            offset, n, idx, future = self._pending.popleft()
            future.result()
            item = (offset, self._views[idx][:n], idx)
        self.next_offset += n
        return item

    def release(self, idx: int) -> None:
        """The write from buffer `idx` is done: refill it."""
        if self._pool is not None:
            self._free.append(idx)
            self._fill_more()

    def close(self) -> None:
        """Stop generating (waits for a fill in progress)."""
        if self._pool is not None:
            for *_, future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)

    def _fill_more(self) -> None:
        assert self._pool is not None
        while self._free and self._fill_offset < self.size:
            idx = self._free.popleft()
            off, n = self._fill_offset, min(self.chunk, self.size - self._fill_offset)
            job = self._pool.submit(self.filler.fill, self._views[idx][:n], off)
            self._pending.append((off, n, idx, job))
            self._fill_offset += n
