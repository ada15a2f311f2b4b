"""The canonical bytes of one Merkle leaf: an event row as stored, plus its blobs' hashes.

A leaf is built from what the database and the archive hold, never from decrypted data,
so it can be recomputed by anyone with the rows, and stays the same after erasure
(erasure destroys a subject's key; the sealed row itself is never rewritten). Text, one
field a line, so a person can read what was hashed::

    kartei-leaf/1
    position: 42
    stream: "email-3f2a..."                  (a JSON string: any character is escaped)
    version: 1
    type: "EmailReceived"
    recorded-at: 2026-12-07T16:00:00.123456Z
    key-sha256: <SHA-256 of the idempotency key, or ->
    metadata-sha256: <SHA-256 of the stored metadata text>
    data-sha256: <SHA-256 of the stored (sealed) data text>
    blob: <locator> <SHA-256 of the stored blob file>      (one line per archived blob)

A blob's *locator* is the name of its file in the archive: SHA-256 of the blob's
reference digest, i.e. SHA-256(SHA-256(original bytes)). It reveals nothing without the
original, yet whoever holds an exported EML file can compute it and find its leaf. The
stored hash covers the file as it lies on disk (compressed and encrypted), so `verify`
checks every blob without any key. The blob lines are fixed when the event is logged
(the Merkle follower reads the references while the keys exist) and kept in the leaf
table: after erasure deletes a blob they remain as its tombstone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

VERSION_LINE = "kartei-leaf/1"
_REF = re.compile(r"sha256:[0-9a-f]{64}")
# json.dumps(text) without its per-call set-up: the encoder's own fast path for a string.
_json_string = json.JSONEncoder().encode


@dataclass(frozen=True, slots=True)
class BlobEntry:
    locator: str  # hex: SHA-256 of the reference's digest (the archive's file name)
    stored_sha256: str  # hex: SHA-256 of the file's bytes; "missing" if absent when logged

    def line(self) -> str:
        return f"{self.locator} {self.stored_sha256}"


@dataclass(frozen=True, slots=True)
class StoredRow:
    """An `events` row exactly as stored."""

    position: int
    stream: str
    version: int
    type: str
    data: str | bytes
    metadata: str | bytes
    idempotency_key: str | None
    recorded_at: datetime


def _sha(stored: str | bytes) -> str:
    """The SHA-256 of a column as stored (text as UTF-8; bytes as they are)."""
    if isinstance(stored, str):
        stored = stored.encode("utf-8", "surrogatepass")
    return hashlib.sha256(stored).hexdigest()


def timestamp(when: datetime) -> str:
    if when.tzinfo is not None:  # naive ones (SQLite gives those) are UTC already
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds") + "Z"


def encode(row: StoredRow, blobs: Sequence[BlobEntry]) -> bytes:
    # One f-string, one JSON encoder for all strings, isoformat: the follower encodes
    # every event once, `verify` every event again.
    key = "-" if row.idempotency_key is None else _sha(row.idempotency_key)
    text = (
        f"{VERSION_LINE}\n"
        f"position: {row.position}\n"
        f"stream: {_json_string(row.stream)}\n"
        f"version: {row.version}\n"
        f"type: {_json_string(row.type)}\n"
        f"recorded-at: {timestamp(row.recorded_at)}\n"
        f"key-sha256: {key}\n"
        f"metadata-sha256: {_sha(row.metadata)}\n"
        f"data-sha256: {_sha(row.data)}\n"
    )
    for b in blobs:
        text += f"blob: {b.locator} {b.stored_sha256}\n"
    return text.encode()


def pack_blobs(blobs: Sequence[BlobEntry]) -> str:
    return "\n".join(b.line() for b in blobs)


def unpack_blobs(packed: str) -> list[BlobEntry]:
    return [BlobEntry(*line.split(" ", 1)) for line in packed.splitlines() if line]


def locator(ref: str) -> str:
    """The archive file name of a reference (see hub/archive.py)."""
    return hashlib.sha256(bytes.fromhex(ref.removeprefix("sha256:"))).hexdigest()


def references(event: Any) -> list[str]:
    """The archive references an event names, in field order, each once."""
    found: list[str] = []
    _walk(event, found)
    return list(dict.fromkeys(found))


_REF_LENGTH = len("sha256:") + 64
_STRING, _ITEMS = "string", "items"


@functools.cache
def _how(kind: type) -> str | tuple[str, ...] | None:
    """How the walk takes a value of this type, judged once per type rather than once
    per value: a string, items (tuple or list), a dataclass's field names, or nothing."""
    if issubclass(kind, str):
        return _STRING
    if issubclass(kind, tuple | list):
        return _ITEMS
    if is_dataclass(kind) and not issubclass(kind, type):  # instances, not classes
        return tuple(f.name for f in fields(kind))
    return None


def _walk(value: Any, found: list[str]) -> None:
    # The follower walks every captured event; a mail's text runs to 200,000 characters,
    # so a string is judged by its length before the pattern is tried.
    kind: type = type(value)
    how = _how(kind)
    if how is None:
        return
    if how is _STRING:
        if len(value) == _REF_LENGTH and _REF.fullmatch(value):
            found.append(value)
    elif how is _ITEMS:
        for item in value:
            _walk(item, found)
    else:
        for name in how:
            _walk(getattr(value, name), found)
