"""RFC 9162 (Certificate Transparency 2.0) Merkle trees: hashes, proofs and their checks.

Pure functions, no storage. A tree over leaves D[0:n] has the root MTH(D[n]) of RFC 9162
§2.1.1: SHA-256(0x00 || leaf) for a leaf, SHA-256(0x01 || left || right) for a node, split at
the largest power of two below n. Proofs are generated as the list of leaf ranges whose
subtree hashes they hold (`inclusion_ranges`, `consistency_ranges`), so a store can fetch
every hash a proof needs in one query; `range_hash` builds any such range from the aligned,
perfect subtrees (`aligned_nodes`) that a store keeps, in O(log n) lookups.

A node is named `(level, index)`: the perfect subtree over leaves
[index * 2**level, (index + 1) * 2**level).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) of RFC 9162 §2.1.1

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2), where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def aligned_nodes(start: int, end: int) -> list[Node]:
    """The perfect, aligned subtrees whose hashes build MTH(D[start:end]) as RFC 9162 does."""
    size = end - start
    if size <= 0:
        raise ValueError(f"empty range [{start}, {end})")
    if size & (size - 1) == 0 and start % size == 0:
        return [(size.bit_length() - 1, start // size)]
    k = split(size)
    return aligned_nodes(start, start + k) + aligned_nodes(start + k, end)


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored perfect subtrees (`aligned_nodes` names them)."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return nodes[(size.bit_length() - 1, start // size)]
    k = split(size)
    return node_hash(range_hash(start, start + k, nodes), range_hash(start + k, end, nodes))


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already `leaf_hash`ed); O(n)."""
    if not leaves:
        return EMPTY_ROOT
    return range_hash(0, len(leaves), LevelNodes(levels(leaves)))


def levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect aligned subtree's hash, level by level: `levels[l][i]` is node (l, i)."""
    out = [list(leaves)]
    while len(out[-1]) > 1:
        below = out[-1]
        out.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return out


class LevelNodes(Mapping[Node, bytes]):
    """`levels` output seen as the node mapping `range_hash` reads."""

    def __init__(self, tree: list[list[bytes]]) -> None:
        """Wrap the levels of a tree."""
        self._tree = tree

    def __getitem__(self, node: Node) -> bytes:
        """The hash of node (level, index)."""
        level, index = node
        if level >= len(self._tree) or index >= len(self._tree[level]):
            raise KeyError(node)
        return self._tree[level][index]

    def __iter__(self) -> Iterator[Node]:  # noqa: D105
        return ((lvl, i) for lvl, row in enumerate(self._tree) for i in range(len(row)))

    def __len__(self) -> int:  # noqa: D105
        return sum(len(row) for row in self._tree)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes form PROOF(first, D[second]) (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    out: list[Range] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        out.append((start, end))
    return out[::-1]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `path` prove leaf hash `leaf` at `index` under `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does `path` prove tree `second` extends tree `first`?

    Equal sizes need equal roots and an empty path; size 0 is extended by every tree.
    """
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
