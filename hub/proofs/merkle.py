"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure).

Leaves are hashed as SHA-256(0x00 || leaf bytes), interior nodes as
SHA-256(0x01 || left || right); a tree of n leaves splits at the largest power of two
below n. The algorithms follow RFC 9162 section 2.1 step by step, so a third party can
check them against the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


class Frontier:
    """The tree's compact range: the roots of its perfect subtrees, largest first.

    Appending a leaf and computing the root cost O(log n); storing the frontier lets
    the log grow incrementally without reading old leaves again.
    """

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if len(peaks) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} peaks")
        self.size = size
        self.peaks = list(peaks)

    def append(self, hashed_leaf: bytes) -> None:
        node, size = hashed_leaf, self.size
        while size & 1:  # merge equal-sized subtrees, as a binary counter carries
            node = node_hash(self.peaks.pop(), node)
            size >>= 1
        self.peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        node = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            node = node_hash(peak, node)
        return node

    def pack(self) -> bytes:
        return b"".join(self.peaks)

    @classmethod
    def unpack(cls, size: int, packed: bytes) -> Frontier:
        return cls(size, [packed[i : i + 32] for i in range(0, len(packed), 32)])


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of already hashed leaves."""
    frontier = Frontier()
    for hashed in leaves:
        frontier.append(hashed)
    return frontier.root()


class Tree:
    """All of a tree's perfect subtrees, built once in O(n), so that each proof costs
    O(log n) (an export proves every message it holds). Level j holds, concatenated, the
    roots of the complete aligned blocks of 2**j leaves."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        level = bytearray(b"".join(leaves))
        self.levels = [level]
        while len(level) >= 64:
            up = bytearray()
            for i in range(0, len(level) - 63, 64):
                up += hashlib.sha256(b"\x01" + level[i : i + 64]).digest()  # node_hash
            self.levels.append(up)
            level = up
        self._right: dict[int, bytes] = {}  # roots of [lo, size): the tree's right edge

    def subroot(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi): a perfect aligned block, or a block that ends the tree."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            j = n.bit_length() - 1
            at = (lo >> j) * 32
            return bytes(self.levels[j][at : at + 32])
        if hi != self.size:
            raise ValueError(f"[{lo}, {hi}) is no subtree of a tree of {self.size}")
        if lo not in self._right:
            k = _split(n)
            self._right[lo] = node_hash(self.subroot(lo, lo + k), self.subroot(lo + k, hi))
        return self._right[lo]

    def root(self) -> bytes:
        return self.subroot(0, self.size) if self.size else EMPTY_ROOT

    def inclusion_path(self, index: int) -> list[bytes]:
        """PATH(m, D[n]): the audit path of leaf `index`."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        path: list[bytes] = []
        lo, hi = 0, self.size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self.subroot(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.subroot(lo, lo + k))
                lo += k
        path.reverse()  # RFC order: from the leaf's sibling up to the root's child
        return path

    def consistency_path(self, old: int) -> list[bytes]:
        """PROOF(m, D[n]): proves the tree of the first `old` leaves is a prefix of this."""
        if not 0 < old <= self.size:
            raise ValueError(f"no consistency proof from {old} to {self.size} leaves")
        return self._subproof(old, 0, self.size, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self.subroot(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self.subroot(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.subroot(lo, lo + k)]


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    return Tree(leaves).inclusion_path(index)


def consistency_path(old: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Proves the first `old` leaves' tree is a prefix of the tree of `leaves`."""
    return Tree(leaves).consistency_path(old)


def verify_inclusion(
    index: int, size: int, hashed_leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, hashed_leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2."""
    if old == new:
        return not path and old_root == new_root
    if not 0 < old < new or not path:
        return False
    proof = list(path)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
