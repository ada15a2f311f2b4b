"""An export's inclusion paths from the stored hashes (hub/proofs/paths.py) are those of
the whole tree built in memory, across the 256- and 65,536-leaf blocks the log stores."""

from __future__ import annotations

import hashlib
import random

import pytest

from hub.proofs import merkle
from hub.proofs.paths import TreePaths


class Stored:
    """The hashes a log of `leaves` stores: every leaf, the roots of the complete blocks of
    256 and 65,536 leaves. Counts what is read."""

    def __init__(self, leaves: list[bytes]) -> None:
        tree = merkle.Tree(leaves)
        self.levels = {
            level: [
                bytes(tree.levels[level][i : i + 32]) for i in range(0, len(tree.levels[level]), 32)
            ]
            if level < len(tree.levels)
            else []
            for level in (0, *merkle.STORED_LEVELS)
        }
        self.read = 0

    async def hashes(self, level: int, first: int, last: int) -> list[bytes]:
        found = self.levels[level][first:last]
        assert len(found) == last - first, (level, first, last)
        self.read += len(found)
        return found


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 511, 600, 65_535, 65_536, 65_537])
async def test_every_path_is_the_whole_trees(size: int) -> None:
    hashed = leaves(size)
    tree = merkle.Tree(hashed)
    paths = TreePaths(Stored(hashed), size)
    assert await paths.root() == tree.root()
    indices = range(size) if size < 1000 else sorted(random.sample(range(size), 3000))
    for index in indices:
        assert await paths.path(index) == tree.inclusion_path(index), index


async def test_beyond_two_blocks_of_65536_it_holds_a_few_windows_not_the_tree() -> None:
    size = 2 * 65_536 + 300 * 256 + 77
    hashed = leaves(size)
    tree = merkle.Tree(hashed)
    stored = Stored(hashed)
    paths = TreePaths(stored, size)
    picked = sorted({*random.sample(range(size), 2000), 0, 65_535, 65_536, size - 78, size - 1})
    for index in picked:
        assert await paths.path(index) == tree.inclusion_path(index), index
    held = [*paths.windows.values(), *paths.ends]
    assert sum(w.end - w.base for w in held) <= 4 * 256 + (size >> 16)  # not the tree
    sparse = Stored(hashed)
    paths = TreePaths(sparse, size)
    for index in picked[::100]:
        assert await paths.path(index) == tree.inclusion_path(index), index
    assert sparse.read < 20 * 2 * 256 + 256 + 77 + 2  # the windows of 20 leaves and the end


async def test_the_empty_tree() -> None:
    assert await TreePaths(Stored([]), 0).root() == merkle.EMPTY_ROOT
