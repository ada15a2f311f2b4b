"""The archive: raw emails, attachments and faxes, content-addressed, compressed, sealed.

A blob's reference is ``sha256:<hex>``, the SHA-256 of its plaintext. The blob is stored
zstd-compressed and AES-GCM encrypted with that hash as its key (convergent encryption),
in a file named by the SHA-256 *of the hash*. So identical content is stored once
(deduplicated), and only someone who holds the reference can read it. References live in
events' sealed personal fields: erasing a data subject's key (crypto-shredding) loses the
reference and with it the way to open the blob (invariant 8). Known trade-off of
convergent encryption: whoever already has a file can confirm that the archive holds it.

A file is ``KA1\n`` and AES-GCM over the plaintext compressed with zstd (level 1: on mail
text 40 % less CPU than level 3, for 1 to 6 % more bytes), or ``KA2\n`` and AES-GCM over
the plaintext itself, with a nonce of its own so the two forms never share a key and nonce.
The second is for data that zstd hardly shrinks, judged from a sample before compressing:
JPEG, PDF and ZIP files, on which zstd spent 1 to 2.5 ns a byte for 2 to 7 % fewer bytes.
Both forms read alike, and the reference does not depend on the form.

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
_MAGIC = b"KA1\n"  # AES-GCM over zstd
_NONCE_PLAIN = bytes(11) + b"\x01"  # not _NONCE: the plaintext's key also sealed its zstd
_MAGIC_PLAIN = b"KA2\n"  # AES-GCM over the plaintext (stored uncompressed)
_SMALLEST = len(_MAGIC) + 16  # magic and GCM tag: a shorter file is a torn write
# Data of at least _PROBE bytes is compressed only when a sample of it (three pieces of
# _PIECE bytes, zstd level 1) shrinks to at most _WORTH of its size.
_PROBE = 32 << 10
_PIECE = 4 << 10
_WORTH = 0.94
_local = threading.local()


class ArchiveError(Exception):
    """A blob is missing, corrupt or could not be written."""


def reference(data: bytes) -> str:
    """The reference `put` will return for these bytes."""
    return PREFIX + hashlib.sha256(data).hexdigest()


class Archive:
    """Blobs under ``<data_dir>/archive``; safe to share between processes."""

    def __init__(self, root: Path, *, level: int = 1) -> None:
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
        """Stores `data` (once) and returns its reference; durable on return when `sync`.

        Without `sync` the caller makes it durable (`sync`) before anything that names the
        reference is committed. A file already there is taken as stored, unless it is
        shorter than any blob: a crash between the rename and the data reaching the disk
        can leave an empty file under the name, which is written anew."""
        ref = reference(data)
        path, earlier = self._paths(ref)
        if _stored(path) or _stored(earlier):
            return ref
        key = _digest(ref)
        if _worth_compressing(data):
            magic = _MAGIC
            sealed = AESGCM(key).encrypt(_NONCE, _compressor(self.level).compress(data), None)
        else:
            magic, sealed = _MAGIC_PLAIN, AESGCM(key).encrypt(_NONCE_PLAIN, data, None)
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/.{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            try:
                fd = os.open(tmp, _CREATE, 0o666)
            except FileNotFoundError:  # the folder's first blob
                _make_folder(folder)
                fd = os.open(tmp, _CREATE, 0o666)
            try:
                _write_all(fd, magic, sealed)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
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
        magic = blob[: len(_MAGIC)]
        if magic not in (_MAGIC, _MAGIC_PLAIN):
            raise ArchiveError(f"{ref}: not an archive blob")
        try:
            if magic == _MAGIC:
                packed = AESGCM(key).decrypt(_NONCE, blob[len(_MAGIC) :], None)
                data = zstandard.ZstdDecompressor().decompress(packed)
            else:
                data = AESGCM(key).decrypt(_NONCE_PLAIN, blob[len(_MAGIC) :], None)
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
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _stored(path: str) -> bool:
    """A blob's file is at `path` (one stat, as `os.path.exists`), not a torn one."""
    try:
        return os.stat(path).st_size >= _SMALLEST
    except (OSError, ValueError):
        return False


def _worth_compressing(data: bytes) -> bool:
    """Whether zstd shrinks `data` enough to pay for compressing it, from three pieces of
    it (at a quarter, half and three quarters: a file's start is often a text header).
    The sample costs about a tenth of compressing a 100 KB file."""
    size = len(data)
    if size < _PROBE:
        return True
    sample = b"".join(data[at : at + _PIECE] for at in (size // 4, size // 2, 3 * size // 4))
    return len(_compressor(1).compress(sample)) <= _WORTH * len(sample)


def _write_all(fd: int, magic: bytes, sealed: bytes) -> None:
    """Writes the file in one call (no copy of `sealed` to put the magic before it)."""
    done = os.writev(fd, (magic, sealed))
    if done < len(magic) + len(sealed):  # a short write (over 2 GB): the rest in pieces
        rest = memoryview(magic + sealed)[done:]
        while rest:
            rest = rest[os.write(fd, rest) :]


def _digest(ref: str) -> bytes:
    if not ref.startswith(PREFIX) or len(ref) != len(PREFIX) + 64:
        raise ArchiveError(f"{ref!r}: not an archive reference")
    try:
        return bytes.fromhex(ref[len(PREFIX) :])
    except ValueError:
        raise ArchiveError(f"{ref!r}: not an archive reference") from None


def _compressor(level: int) -> zstandard.ZstdCompressor:
    # ZstdCompressor is not thread-safe; one per thread and level (and per process in the
    # pool).
    compressors: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if compressors is None:
        compressors = _local.compressors = {}
    comp = compressors.get(level)
    if comp is None:
        comp = compressors[level] = zstandard.ZstdCompressor(level=level)
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
