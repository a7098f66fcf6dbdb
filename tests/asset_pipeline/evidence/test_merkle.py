"""RFC 9162 trees and proofs, checked against a literal transcription of the RFC's recursion."""

from __future__ import annotations

import hashlib

import pytest

from asset_pipeline.evidence import merkle


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(d: list[bytes]) -> bytes:  # RFC 9162 §2.1.1, over raw leaf data
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = 1
    while k * 2 < len(d):
        k *= 2
    return _h(b"\x01" + _mth(d[:k]) + _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:  # §2.1.3.1
    if len(d) == 1:
        return []
    k = merkle.split(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:  # §2.1.4.1
    if m == len(d):
        return [] if b else [_mth(d)]
    k = merkle.split(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


DATA = [f"event {i}".encode() for i in range(40)]


def _proof(ranges, leaves):
    nodes = merkle.LevelNodes(merkle.levels(leaves))
    return [merkle.range_hash(a, b, nodes) for a, b in ranges]


@pytest.mark.parametrize("n", range(1, 34))
def test_root_and_every_proof_match_the_rfc(n: int) -> None:
    data = DATA[:n]
    leaves = [merkle.leaf_hash(x) for x in data]
    root = merkle.root_of(leaves)
    assert root == _mth(data)
    for m in range(n):
        path = _proof(merkle.inclusion_ranges(m, n), leaves)
        assert path == _path(m, data)
        assert merkle.verify_inclusion(leaves[m], m, n, path, root)
        assert not merkle.verify_inclusion(leaves[m], (m + 1) % n, n, path, root) or n == 1
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), m, n, path, root)
    for m in range(1, n + 1):
        proof = _proof(merkle.consistency_ranges(m, n), leaves)
        assert proof == _subproof(m, data, True)
        old = _mth(data[:m])
        assert merkle.verify_consistency(m, n, old, root, proof)
        forked = _mth([*data[: m - 1], b"rewritten"])
        assert not merkle.verify_consistency(m, n, forked, root, proof)
        if m < n:
            assert not merkle.verify_consistency(m, n, old, _mth(data[: n - 1]), proof)


def test_empty_tree_root_and_trivial_consistency() -> None:
    assert merkle.root_of([]) == _h(b"")
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, b"x" * 32, [])


def test_a_tree_that_was_cut_short_is_not_consistent() -> None:
    leaves = [merkle.leaf_hash(x) for x in DATA[:10]]
    old = merkle.root_of(leaves)
    cut = leaves[:8]
    # No proof of any shape makes the shorter tree an extension of the longer one.
    assert not merkle.verify_consistency(10, 8, old, merkle.root_of(cut), [])


def test_aligned_nodes_cover_the_range_in_log_n_pieces() -> None:
    assert merkle.aligned_nodes(0, 8) == [(3, 0)]
    assert merkle.aligned_nodes(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert len(merkle.aligned_nodes(0, 100_000)) == bin(100_000).count("1")
