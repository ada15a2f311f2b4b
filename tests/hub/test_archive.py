"""The archive's two stored forms (compressed, and stored as it is when zstd would hardly
shrink it), files of the earlier form, and a torn file left at a blob's name."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest
import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.archive import Archive, ArchiveError, reference
from hub.proofs.files import stored_sha256

TEXT = ("Sehr geehrte Damen und Herren, anbei die Rechnung Nr. 4711.\r\n" * 2000).encode()


def jpeg_like(size: int) -> bytes:
    """Bytes that zstd cannot shrink, after a short text header as real files have."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF" + random.Random(size).randbytes(size)


def written_before(archive: Archive, data: bytes) -> str:
    """Stores `data` as every archive did before the uncompressed form: compressed."""
    ref = reference(data)
    sealed = AESGCM(bytes.fromhex(ref[7:])).encrypt(
        bytes(12), zstandard.ZstdCompressor(level=3).compress(data), None
    )
    path = archive.path_of(ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"KA1\n" + sealed)
    return ref


def test_an_incompressible_attachment_is_stored_as_it_is_and_reads_back(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    photo = jpeg_like(200_000)
    ref = archive.put(photo)
    stored = archive.path_of(ref).read_bytes()
    assert ref == reference(photo)  # the reference does not depend on the form
    assert stored.startswith(b"KA2\n") and len(stored) == len(photo) + 4 + 16
    assert photo[100:200] not in stored  # sealed all the same
    assert archive.get(ref) == photo
    assert stored_sha256(tmp_path, archive.path_of(ref).name) == hashlib.sha256(stored).hexdigest()


@pytest.mark.parametrize("data", [TEXT, b"", b"x", TEXT[:40_000] + jpeg_like(60_000)[:100]])
def test_what_zstd_shrinks_is_stored_compressed(tmp_path: Path, data: bytes) -> None:
    archive = Archive(tmp_path)
    ref = archive.put(data)
    stored = archive.path_of(ref).read_bytes()
    assert stored.startswith(b"KA1\n") and (len(stored) < len(data) or len(data) < 100)
    assert archive.get(ref) == data


def test_files_of_the_compressed_form_still_read_and_are_not_rewritten(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    photo = jpeg_like(100_000)  # stored today as it is; this file is the earlier form
    ref = written_before(archive, photo)
    before = archive.path_of(ref).read_bytes()
    assert archive.get(ref) == photo
    assert archive.put(photo) == ref
    assert archive.path_of(ref).read_bytes() == before  # the proofs' leaf hash stays valid


def test_a_damaged_uncompressed_file_is_detected(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    ref = archive.put(jpeg_like(50_000))
    path = archive.path_of(ref)
    stored = bytearray(path.read_bytes())
    stored[5000] ^= 1
    path.write_bytes(bytes(stored))
    with pytest.raises(ArchiveError, match="damaged"):
        archive.get(ref)
    path.write_bytes(b"KA9\n" + bytes(stored[4:]))
    with pytest.raises(ArchiveError, match="not an archive blob"):
        archive.get(ref)


def test_a_form_read_with_the_other_forms_nonce_fails(tmp_path: Path) -> None:
    """The two forms seal with different nonces: a file whose magic was changed to the
    other form's does not open (nor does any other key and nonce pair repeat)."""
    archive = Archive(tmp_path)
    for data in (jpeg_like(40_000), TEXT):
        ref = archive.put(data)
        path = archive.path_of(ref)
        stored = path.read_bytes()
        other = b"KA1\n" if stored.startswith(b"KA2\n") else b"KA2\n"
        path.write_bytes(other + stored[4:])
        with pytest.raises(ArchiveError, match="damaged"):
            archive.get(ref)


@pytest.mark.parametrize("torn", [b"", b"KA1\n", b"KA2\n" + bytes(10)])
def test_a_torn_file_at_the_blobs_name_is_written_anew(tmp_path: Path, torn: bytes) -> None:
    """What a crash can leave when the rename reached the disk and the data did not: the
    next capture of the same message stores it again instead of taking it as stored."""
    archive = Archive(tmp_path)
    ref = reference(TEXT)
    path = archive.path_of(ref)
    path.parent.mkdir(parents=True)
    path.write_bytes(torn)
    assert archive.put(TEXT) == ref
    assert archive.get(ref) == TEXT


def test_blobs_go_into_folders_made_as_needed_even_when_removed(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    first = archive.put(b"eins")
    folder = archive.path_of(first).parent
    archive.remove(first)
    os.rmdir(folder)
    second = archive.put(b"eins")  # the same folder, gone since: made again
    assert archive.get(second) == b"eins"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
