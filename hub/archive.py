"""The archive: raw emails, attachments and faxes, content-addressed, compressed, sealed.

A blob's reference is ``sha256:<hex>``, the SHA-256 of its plaintext. The blob is stored
zstd-compressed and AES-GCM encrypted with that hash as its key (convergent encryption),
in a file named by the SHA-256 *of the hash*. So identical content is stored once
(deduplicated), and only someone who holds the reference can read it. References live in
events' sealed personal fields: erasing a data subject's key (crypto-shredding) loses the
reference and with it the way to open the blob (invariant 8). Known trade-off of
convergent encryption: whoever already has a file can confirm that the archive holds it.

Files lie in one of 256 folders, by the name's first two hex digits. Archives written
before 2026-11 had a second level of 256 folders (the next two digits); blobs there are
still found. With 65,536 folders a first sync made a new folder for almost every blob,
which cost the workers more system time than writing the blobs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sha256:"
_NONCE = bytes(12)  # the key is unique per content, so a fixed nonce never repeats a pair
_MAGIC = b"KA1\n"
_local = threading.local()


class ArchiveError(Exception):
    """A blob is missing, corrupt or could not be written."""


def reference(data: bytes) -> str:
    """The reference `put` will return for these bytes."""
    return PREFIX + hashlib.sha256(data).hexdigest()


class Archive:
    """Blobs under ``<data_dir>/archive``; safe to share between processes."""

    def __init__(self, root: Path, *, level: int = 3) -> None:
        self.root = Path(root)
        self.level = level
        self._root = str(self.root)

    def path_of(self, ref: str) -> Path:
        """Where the blob is (or would be stored)."""
        return Path(self._existing(ref) or self._paths(ref)[0])

    def _paths(self, ref: str) -> tuple[str, str]:
        """The blob's file in the current layout and in the earlier two-level one
        (strings, not Path objects: a first sync stores a blob or two per message)."""
        name = hashlib.sha256(_digest(ref)).hexdigest()
        return f"{self._root}/{name[:2]}/{name}", f"{self._root}/{name[:2]}/{name[2:4]}/{name}"

    def _existing(self, ref: str) -> str | None:
        return next((path for path in self._paths(ref) if _exists(path)), None)

    def put(self, data: bytes, *, sync: bool = True) -> str:
        """Stores `data` (once) and returns its reference; durable on return when `sync`."""
        ref = reference(data)
        path, earlier = self._paths(ref)
        if _exists(path) or _exists(earlier):
            return ref
        key = _digest(ref)
        blob = _MAGIC + AESGCM(key).encrypt(_NONCE, _compressor(self.level).compress(data), None)
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/.{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            _make_folder(folder)
            with open(tmp, "wb") as out:
                out.write(blob)
                if sync:
                    os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise ArchiveError(f"cannot store blob: {err}") from err
        if sync:
            _fsync_dir(Path(folder))
        return ref

    def get(self, ref: str) -> bytes:
        """The bytes stored under `ref`; raises ArchiveError when missing or corrupt."""
        key = _digest(ref)
        path = self._existing(ref)
        if path is None:
            raise ArchiveError(f"{ref}: not in the archive")
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            raise ArchiveError(f"{ref}: not in the archive") from None
        if not blob.startswith(_MAGIC):
            raise ArchiveError(f"{ref}: not an archive blob")
        try:
            packed = AESGCM(key).decrypt(_NONCE, blob[len(_MAGIC) :], None)
            data = zstandard.ZstdDecompressor().decompress(packed)
        except Exception as err:  # InvalidTag, ZstdError: both mean a damaged file
            raise ArchiveError(f"{ref}: damaged ({type(err).__name__})") from err
        if reference(data) != ref:
            raise ArchiveError(f"{ref}: content does not match its reference")
        return data

    def has(self, ref: str) -> bool:
        return self._existing(ref) is not None

    def remove(self, ref: str) -> bool:
        """Deletes a blob (an erasure); False when it was not there. The file held only
        ciphertext whose key is the reference, which the erasure destroyed with the key."""
        removed = False
        for path in self._paths(ref):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                _fsync_dir(Path(path).parent)
                removed = True
        return removed

    def sync(self, refs: Iterable[str] = ()) -> None:
        """Makes blobs written with ``sync=False`` durable (one syncfs where available)."""
        if not self.root.exists():
            return
        if _syncfs(self.root):
            return
        dirs = set()
        for ref in refs:
            path = self.path_of(ref)
            with open(path, "rb") as f:
                os.fsync(f.fileno())
            dirs.add(path.parent)
        for d in dirs:
            _fsync_dir(d)


_exists = os.path.exists


def _digest(ref: str) -> bytes:
    if not ref.startswith(PREFIX) or len(ref) != len(PREFIX) + 64:
        raise ArchiveError(f"{ref!r}: not an archive reference")
    try:
        return bytes.fromhex(ref[len(PREFIX) :])
    except ValueError:
        raise ArchiveError(f"{ref!r}: not an archive reference") from None


def _compressor(level: int) -> zstandard.ZstdCompressor:
    # ZstdCompressor is not thread-safe; one per thread (and per process in the pool).
    comp = getattr(_local, "compressor", None)
    if comp is None:
        comp = _local.compressor = zstandard.ZstdCompressor(level=level)
    return comp


def _make_folder(folder: str) -> None:
    """The blob's folder, made where missing (most blobs of a first sync go to a new one)."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:  # its parent is new too
        os.makedirs(folder, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _syncfs(path: Path) -> bool:
    """Flushes the whole file system holding `path` in one call (Linux); False if absent."""
    syncfs = getattr(_libc, "syncfs", None)
    if syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)
