"""The archive files as the proofs hash them (hub/proofs/files.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hub.archive import Archive
from hub.proofs import files, leaf


def test_a_stored_blob_hashes_as_its_file_lies_on_disk(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    ref = archive.put(os.urandom(50_000))
    stored = archive.path_of(ref).read_bytes()
    found = files.stored_sha256(archive.root, leaf.locator(ref))
    assert found == hashlib.sha256(stored).hexdigest()


def test_a_blob_of_the_earlier_two_level_layout_is_found(tmp_path: Path) -> None:
    locator = hashlib.sha256(b"some reference").hexdigest()
    old = tmp_path / locator[:2] / locator[2:4] / locator
    old.parent.mkdir(parents=True)
    old.write_bytes(b"KA1\nold layout")
    assert files.stored_sha256(tmp_path, locator) == hashlib.sha256(old.read_bytes()).hexdigest()


def test_a_missing_blob_has_no_hash(tmp_path: Path) -> None:
    assert files.stored_sha256(tmp_path, hashlib.sha256(b"x").hexdigest()) is None


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 5])
def test_files_larger_than_one_read_hash_whole(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_PIECE", 4096)  # an 8 MB fax, scaled down
    locator = hashlib.sha256(str(size).encode()).hexdigest()
    path = tmp_path / locator[:2] / locator
    path.parent.mkdir(parents=True)
    data = os.urandom(size)
    path.write_bytes(data)
    assert files.stored_sha256(tmp_path, locator) == hashlib.sha256(data).hexdigest()
