"""Inclusion paths of many leaves of one tree, asked in ascending order, from the stored
hashes (an export proves every message it holds).

The log stores the roots of every complete aligned block of 256 and of 65,536 leaves
(merkle.STORED_LEVELS). A subtree in a leaf's path is a perfect aligned block or the
tree's right edge; a perfect block of height h lies inside the leaf's own 256-leaf block
(h < 8), its 65,536-leaf block (h < 16), or is made of whole 65,536-leaf blocks. So the
paths of leaves taken in order need only: the roots of all 65,536-leaf blocks (n/65,536
hashes), the 256-leaf roots of one 65,536-leaf block and the leaves of one 256-leaf block
at a time, and those of the tree's ragged end. Each window's subtrees are built once
(merkle.Tree), so a path costs about what it costs from the whole tree in memory, without
holding it (32 MB at a million leaves, 32 GB at a billion).
"""

from __future__ import annotations

from typing import Protocol

from hub.proofs import merkle

LOW, MID = merkle.STORED_LEVELS  # 8 and 16: blocks of 256 and of 65,536 leaves


class StoredHashes(Protocol):
    async def hashes(self, level: int, first: int, last: int) -> list[bytes]:
        """The stored hashes of `level` (0: the leaves) with index first..last-1."""
        ...


class Window:
    """The subtrees of one aligned run of stored hashes of `level`, from index `base`."""

    def __init__(self, level: int, base: int, hashes: list[bytes]) -> None:
        self.level, self.base = level, base
        self.end = base + len(hashes)
        self.tree = merkle.Tree(hashes)

    def holds(self, lo: int, hi: int) -> bool:
        return self.base <= lo >> self.level and (hi - 1) >> self.level < self.end

    def subroot(self, lo: int, hi: int) -> bytes:
        first = (lo >> self.level) - self.base
        return self.tree.subroot(first, first + ((hi - lo) >> self.level))


class TreePaths:
    """PATH(index, D[size]) for leaves asked in ascending order, from `stored`."""

    def __init__(self, stored: StoredHashes, size: int) -> None:
        self.stored, self.size = stored, size
        self.windows: dict[int, Window] = {}  # by level: the one block being proved in
        self.ends: list[Window] = []  # the whole top level and the tree's ragged end
        self._right: dict[int, bytes] = {}  # roots of [lo, size), by lo
        self._block = -1  # the 256-leaf block whose windows are held

    async def root(self) -> bytes:
        """MTH(D[size]) from the stored hashes (loads the top and the ragged end)."""
        if not self.ends:
            top, mid_end, low_end = self.size >> MID, self.size >> LOW, self.size
            self.ends = [
                Window(MID, 0, await self.stored.hashes(MID, 0, top)),
                Window(LOW, top << (MID - LOW), await self.stored.hashes(LOW, top << 8, mid_end)),
                Window(0, mid_end << LOW, await self.stored.hashes(0, mid_end << LOW, low_end)),
            ]
        return self._edge(0) if self.size else merkle.EMPTY_ROOT

    async def path(self, index: int) -> list[bytes]:
        """The audit path of leaf `index` (indices at or after the previous one's)."""
        if index >> LOW != self._block:  # a new 256-leaf block: its windows, once
            await self.root()
            await self._load(MID, LOW, index)
            await self._load(LOW, 0, index)
            self._block = index >> LOW
        return [self._subroot(lo, hi) for lo, hi in merkle.inclusion_ranges(index, self.size)]

    async def _load(self, block: int, level: int, index: int) -> None:
        """Holds the stored hashes of `level` inside the 2**block-leaf block of `index`,
        unless that block is the ragged end (held already)."""
        lo = index >> block << block
        if lo + (1 << block) > self.size:
            return
        held = self.windows.get(level)
        if held is None or held.base != lo >> level:
            first, last = lo >> level, (lo + (1 << block)) >> level
            self.windows[level] = Window(level, first, await self.stored.hashes(level, first, last))

    def _subroot(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) or lo % n:  # not a perfect aligned block: the tree's right edge
            return self._edge(lo)
        height = n.bit_length() - 1
        level = MID if height >= MID else LOW if height >= LOW else 0
        window = self.windows.get(level)
        if window is not None and window.holds(lo, hi):
            return window.subroot(lo, hi)
        for window in self.ends:
            if window.level == level and window.holds(lo, hi):
                return window.subroot(lo, hi)
        raise LookupError(f"leaves [{lo}, {hi}) are outside the hashes held")

    def _edge(self, lo: int) -> bytes:
        """MTH of leaves [lo, size): the roots of its perfect blocks, folded."""
        if lo not in self._right:
            peaks = [self._subroot(s, s + (1 << h)) for s, h in merkle.blocks(lo, self.size)]
            self._right[lo] = merkle.fold(peaks)
        return self._right[lo]
