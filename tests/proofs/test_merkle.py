"""RFC 6962 hashing, proofs and their checks against the RFC's recursive definition."""

from __future__ import annotations

import hashlib

import pytest

from hub.proofs import merkle as m


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 defines it (recursively)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = m._split(len(leaves))
    return m.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def hashed(n: int) -> list[bytes]:
    return [m.leaf_hash(str(i).encode()) for i in range(n)]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert m.leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )  # RFC 6962 test vector: the hash of the empty leaf


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31])
def test_roots_proofs_and_their_verification(n: int) -> None:
    leaves = hashed(n)
    root = mth(leaves)
    assert m.root(leaves) == root
    for i in range(n):
        path = m.inclusion_path(i, leaves)
        assert m.verify_inclusion(i, n, leaves[i], path, root)
        assert not m.verify_inclusion(i, n, m.leaf_hash(b"other"), path, root)
    for old in range(1, n + 1):
        path = m.consistency_path(old, leaves)
        assert m.verify_consistency(old, n, mth(leaves[:old]), root, path)
        if old < n:
            assert not m.verify_consistency(old, n, m.leaf_hash(b"x"), root, path)


def test_the_frontier_survives_packing() -> None:
    frontier = m.Frontier()
    for h in hashed(13):
        frontier.append(h)
    again = m.Frontier.unpack(13, frontier.pack())
    again.append(m.leaf_hash(b"13"))
    assert again.root() == mth(hashed(14))
