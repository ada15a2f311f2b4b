"""Crypto-shredding: personal fields are sealed with a key per data subject.

An event's personal fields are taken out of its data and stored as one AES-GCM sealed
document under the data key ``$pd``. The document names its key by an opaque id
(``{"k": <key id>, "c": <ciphertext>}``), never by the subject: a subject is an address
or a phone number (``email:<address>``, ``phone:<E.164>``), and the log cannot be
rewritten once that person is erased. Erasing a person deletes their key row (subject,
id and key); what is left in the log is ciphertext and an id that nothing points to
(invariant 8). Events written before key ids (2026-12) name the subject (``"s"``); they
are still read, and erasing their subject still destroys their key, but their subject
stays readable in the log (docs/privacy.md).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import pybase64
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events.codec import json_default
from hub.store.schema import subject_keys

SEALED = "$pd"


class SubjectKey(NamedTuple):
    """A data subject's key and the opaque id sealed documents name it by."""

    id: str
    key: bytes


def key_id(key: bytes) -> str:
    """The id of a key: derived from it, so nothing about the subject is in it."""
    return hashlib.sha256(b"kartei-subject-key\0" + key).hexdigest()[:32]


def new_key() -> SubjectKey:
    key = AESGCM.generate_key(bit_length=256)
    return SubjectKey(key_id(key), key)


def key_ref(sealed: Mapping[str, Any]) -> str:
    """Which key opens a sealed document: ``k:<id>``, or ``s:<subject>`` for old events."""
    if "k" in sealed:
        return f"k:{sealed['k']}"
    return f"s:{sealed.get('s')}"


class KeyRing:
    """Subject keys: read from the `subject_keys` table and cached once committed."""

    def __init__(self) -> None:
        self._cache: dict[str, SubjectKey] = {}  # subject -> key, for writing
        self._refs: dict[str, bytes] = {}  # key_ref -> key, for reading

    def cached(self, subject: str) -> SubjectKey | None:
        return self._cache.get(subject)

    def _keep(self, subject: str, key: SubjectKey) -> None:
        self._cache[subject] = key
        self._refs[f"k:{key.id}"] = self._refs[f"s:{subject}"] = key.key

    async def key_for_writing(
        self, conn: AsyncConnection, subject: str, created: dict[str, SubjectKey]
    ) -> SubjectKey:
        """The subject's key, created in this transaction if it has none yet.

        New keys go to `created` and reach the cache only through `remember` after commit,
        so a rolled-back transaction cannot leave a key in memory that is not on disk.
        """
        found = await self.keys_for_writing(conn, [subject], created)
        return found[subject]

    async def keys_for_writing(
        self, conn: AsyncConnection, subjects: Collection[str], created: dict[str, SubjectKey]
    ) -> dict[str, SubjectKey]:
        """`key_for_writing` for many subjects: one SELECT and one INSERT at most."""
        found = {s: k for s in subjects if (k := self._cache.get(s) or created.get(s))}
        missing = [s for s in subjects if s not in found]
        if missing:
            rows = await conn.execute(
                sa.select(subject_keys.c.subject, subject_keys.c.key_id, subject_keys.c.key).where(
                    subject_keys.c.subject.in_(missing)
                )
            )
            for subject, kid, key in rows:
                stored = SubjectKey(kid or key_id(bytes(key)), bytes(key))
                self._keep(subject, stored)
                found[subject] = stored
            new = {s: new_key() for s in missing if s not in found}
            if new:
                now = datetime.now(UTC)
                await conn.execute(
                    sa.insert(subject_keys),
                    [
                        {"subject": s, "key_id": k.id, "key": k.key, "created_at": now}
                        for s, k in new.items()
                    ],
                )
                created.update(new)
                found.update(new)
        return found

    def remember(self, created: dict[str, SubjectKey]) -> None:
        for subject, key in created.items():
            self._keep(subject, key)

    async def load(self, conn: AsyncConnection, refs: Collection[str]) -> dict[str, bytes]:
        """Keys for reading by `key_ref`; a ref missing from the result has been erased."""
        missing = [r for r in refs if r not in self._refs]
        if missing:
            for ref, key in (await keys_by_ref(conn, missing)).items():
                self._refs[ref] = key
        return {r: self._refs[r] for r in refs if r in self._refs}

    async def erase(self, conn: AsyncConnection, subject: str) -> bool:
        """Deletes a subject's key, making their sealed fields unrecoverable."""
        self.forget(subject)
        result = await conn.execute(
            sa.delete(subject_keys)
            .where(subject_keys.c.subject == subject)
            .returning(subject_keys.c.key)
        )
        gone = [bytes(k) for k in result.scalars()]
        for key in gone:
            self._refs.pop(f"k:{key_id(key)}", None)
        return bool(gone)

    def clear(self) -> None:
        """Forgets every cached key (another process erased some; they are read again)."""
        self._cache.clear()
        self._refs.clear()
        _cipher.cache_clear()

    def forget(self, subject: str) -> None:
        """Drops a subject's key from memory (it was erased, maybe by another process)."""
        cached = self._cache.pop(subject, None)
        self._refs.pop(f"s:{subject}", None)
        if cached is not None:
            self._refs.pop(f"k:{cached.id}", None)
        # The ciphers are made from key bytes: an erased key must not stay in memory
        # there either (erasure is rare; every cipher is made again on its next use).
        _cipher.cache_clear()


async def keys_by_ref(conn: AsyncConnection, refs: Collection[str]) -> dict[str, bytes]:
    """The stored keys for these `key_ref`s (erased ones are missing)."""
    ids = [r[2:] for r in refs if r.startswith("k:")]
    subjects = [r[2:] for r in refs if r.startswith("s:")]
    found: dict[str, bytes] = {}
    c = subject_keys.c
    if ids:
        for kid, key in await conn.execute(sa.select(c.key_id, c.key).where(c.key_id.in_(ids))):
            found[f"k:{kid}"] = bytes(key)
    if subjects:
        rows = await conn.execute(sa.select(c.subject, c.key).where(c.subject.in_(subjects)))
        for subject, key in rows:
            found[f"s:{subject}"] = bytes(key)
    return found


def seal(data: dict[str, Any], fields: Collection[str], key: SubjectKey) -> dict[str, Any]:
    """Moves `fields` of `data` into one sealed document."""
    personal = {name: data.pop(name) for name in fields if name in data}
    nonce = os.urandom(12)
    plain = orjson.dumps(personal, default=json_default)
    ciphertext = _cipher(key.key).encrypt(nonce, plain, key.id.encode())
    data[SEALED] = {"k": key.id, "c": pybase64.b64encode(nonce + ciphertext).decode()}
    return data


def unseal(data: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Puts the sealed fields back; raises ValueError when they cannot be opened."""
    sealed = data.pop(SEALED)
    # pybase64 (SIMD): binascii took about 3 us per event, a quarter of a decoded read.
    # Not validating, as binascii did not: a mangled text fails the tag check below.
    raw = pybase64.b64decode(sealed["c"])
    associated = str(sealed["k"] if "k" in sealed else sealed["s"]).encode()
    try:
        personal = orjson.loads(_cipher(key).decrypt(raw[:12], raw[12:], associated))
    except InvalidTag as err:
        raise ValueError(f"sealed fields ({key_ref(sealed)[:10]}…) do not open") from err
    data.update(personal)
    return data


def open_sealed(cipher: AESGCM, kid: str, ciphertext: str) -> bytes:
    """The plain JSON of a sealed document written with a key id (`seal`'s ``k`` and
    ``c``), as bytes, opened with the key's `cipher`; ValueError or `InvalidTag` when it
    does not open. For readers that put it back into the stored JSON without parsing
    the seal."""
    raw = pybase64.b64decode(ciphertext)
    return cipher.decrypt(raw[:12], raw[12:], kid.encode())


def cipher(key: bytes) -> AESGCM:
    """A key's AES-GCM object (cached, see `_cipher`), for `open_sealed`."""
    return _cipher(key)


@functools.lru_cache(maxsize=4096)
def _cipher(key: bytes) -> AESGCM:
    """A key's AES-GCM object, kept for the key's next events (making one costs as much
    as a decryption). Emptied whenever a `KeyRing` forgets a key."""
    return AESGCM(key)
