"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure).

Leaves are hashed as SHA-256(0x00 || leaf bytes), interior nodes as
SHA-256(0x01 || left || right); a tree of n leaves splits at the largest power of two
below n. The algorithms follow RFC 9162 section 2.1 step by step, so a third party can
check them against the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence


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

    def append(self, hashed_leaf: bytes) -> list[bytes]:
        """Adds a leaf; returns the subtrees it completes: item j is the root of the
        aligned block of 2**j leaves that ends with this leaf."""
        node, size = hashed_leaf, self.size
        closed = [node]
        while size & 1:  # merge equal-sized subtrees, as a binary counter carries
            node = node_hash(self.peaks.pop(), node)
            closed.append(node)
            size >>= 1
        self.peaks.append(node)
        self.size += 1
        return closed

    def root(self) -> bytes:
        return fold(self.peaks) if self.peaks else EMPTY_ROOT

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


def blocks(lo: int, hi: int) -> list[tuple[int, int]]:
    """The perfect aligned blocks (start, height) whose roots, folded from the right,
    are MTH of leaves [lo, hi), largest first. `lo` must be a multiple of the smallest
    power of two not below hi - lo, as every subtree of the RFC's recursion starts."""
    found = []
    n = hi - lo
    for j in range(n.bit_length() - 1, -1, -1):
        if n >> j & 1:
            found.append((lo, j))
            lo += 1 << j
    return found


def fold(peaks: Sequence[bytes]) -> bytes:
    """The root over perfect subtrees' roots, largest first (as Frontier.root)."""
    node = peaks[-1]
    for peak in reversed(peaks[:-1]):
        node = node_hash(peak, node)
    return node


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees [lo, hi) whose roots make PATH(index, D[size]), in the RFC's order
    (from the leaf's sibling up to the root's child)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    found: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            found.append((lo + k, hi))
            hi = lo + k
        else:
            found.append((lo, lo + k))
            lo += k
    found.reverse()
    return found


def consistency_ranges(old: int, size: int) -> list[tuple[int, int]]:
    """The subtrees [lo, hi) whose roots make PROOF(old, D[size]), in order."""
    if not 0 < old <= size:
        raise ValueError(f"no consistency proof from {old} to {size} leaves")
    return _subproof(old, 0, size, True)


def _subproof(m: int, lo: int, hi: int, whole: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[lo:hi], whole) of RFC 9162 2.1.4.1, as subtree ranges."""
    n = hi - lo
    if m == n:
        return [] if whole else [(lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, lo, lo + k, whole), (lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False), (lo, lo + k)]


# The levels whose node hashes the log stores (hub/proofs/log.py): the roots of every
# complete aligned block of 256 and of 65,536 leaves. A subtree's root then needs at most
# 255 hashes of each level below it, whatever the tree's size.
STORED_LEVELS = (8, 16)


def reads(
    ranges: Sequence[tuple[int, int]], levels: Sequence[int] = STORED_LEVELS
) -> dict[int, list[tuple[int, int]]]:
    """Which stored hashes make the roots of `ranges`: by level (0: the leaves), the
    index ranges [first, last) to read, merged where they touch."""
    wanted: dict[int, list[tuple[int, int]]] = {}
    for lo, hi in ranges:
        for start, height in blocks(lo, hi):
            level = max((v for v in levels if v <= height), default=0)
            wanted.setdefault(level, []).append((start >> level, (start + (1 << height)) >> level))
    merged: dict[int, list[tuple[int, int]]] = {}
    for level, spans in wanted.items():
        out: list[tuple[int, int]] = []
        for first, last in sorted(spans):
            if out and first <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], last))
            else:
                out.append((first, last))
        merged[level] = out
    return merged


def subroots(
    ranges: Sequence[tuple[int, int]],
    stored: Mapping[tuple[int, int], bytes],
    levels: Sequence[int] = STORED_LEVELS,
) -> list[bytes]:
    """The roots of `ranges` from stored hashes (level, index) as `reads` names them."""
    found = []
    for lo, hi in ranges:
        peaks = []
        for start, height in blocks(lo, hi):
            level = max((v for v in levels if v <= height), default=0)
            first = start >> level
            peaks.append(
                root([stored[level, i] for i in range(first, first + (1 << (height - level)))])
            )
        found.append(fold(peaks))
    return found


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
        return [self.subroot(lo, hi) for lo, hi in inclusion_ranges(index, self.size)]

    def consistency_path(self, old: int) -> list[bytes]:
        """PROOF(m, D[n]): proves the tree of the first `old` leaves is a prefix of this."""
        return [self.subroot(lo, hi) for lo, hi in consistency_ranges(old, self.size)]


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
