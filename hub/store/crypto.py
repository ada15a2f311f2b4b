"""Crypto-shredding: personal fields are sealed with a key per data subject.

An event's personal fields are taken out of its data and stored as one AES-GCM sealed
document under the data key ``$pd`` (with the subject's name as associated data). Erasing
a person deletes their key row; the log itself is never rewritten (invariant 8).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events.codec import json_default
from hub.store.schema import subject_keys

SEALED = "$pd"


class KeyRing:
    """Subject keys: read from the `subject_keys` table and cached once committed."""

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}

    def cached(self, subject: str) -> bytes | None:
        return self._cache.get(subject)

    async def key_for_writing(
        self, conn: AsyncConnection, subject: str, created: dict[str, bytes]
    ) -> bytes:
        """The subject's key, created in this transaction if it has none yet.

        New keys go to `created` and reach the cache only through `remember` after commit,
        so a rolled-back transaction cannot leave a key in memory that is not on disk.
        """
        key = self._cache.get(subject) or created.get(subject)
        if key is not None:
            return key
        row = await conn.execute(
            sa.select(subject_keys.c.key).where(subject_keys.c.subject == subject)
        )
        stored = row.scalar_one_or_none()
        if stored is not None:
            self._cache[subject] = stored
            return bytes(stored)
        key = AESGCM.generate_key(bit_length=256)
        await conn.execute(
            sa.insert(subject_keys).values(subject=subject, key=key, created_at=datetime.now(UTC))
        )
        created[subject] = key
        return key

    async def keys_for_writing(
        self, conn: AsyncConnection, subjects: Collection[str], created: dict[str, bytes]
    ) -> dict[str, bytes]:
        """`key_for_writing` for many subjects: one SELECT and one INSERT at most."""
        found = {s: k for s in subjects if (k := self._cache.get(s) or created.get(s))}
        missing = [s for s in subjects if s not in found]
        if missing:
            rows = await conn.execute(
                sa.select(subject_keys.c.subject, subject_keys.c.key).where(
                    subject_keys.c.subject.in_(missing)
                )
            )
            for subject, key in rows:
                self._cache[subject] = found[subject] = bytes(key)
            new = {s: AESGCM.generate_key(bit_length=256) for s in missing if s not in found}
            if new:
                now = datetime.now(UTC)
                await conn.execute(
                    sa.insert(subject_keys),
                    [{"subject": s, "key": k, "created_at": now} for s, k in new.items()],
                )
                created.update(new)
                found.update(new)
        return found

    def remember(self, created: dict[str, bytes]) -> None:
        self._cache.update(created)

    async def load(self, conn: AsyncConnection, subjects: Collection[str]) -> dict[str, bytes]:
        """Keys for reading; a subject missing from the result has been erased."""
        missing = [s for s in subjects if s not in self._cache]
        if missing:
            rows = await conn.execute(
                sa.select(subject_keys.c.subject, subject_keys.c.key).where(
                    subject_keys.c.subject.in_(missing)
                )
            )
            for subject, key in rows:
                self._cache[subject] = bytes(key)
        return {s: self._cache[s] for s in subjects if s in self._cache}

    async def erase(self, conn: AsyncConnection, subject: str) -> bool:
        """Deletes a subject's key, making their sealed fields unrecoverable."""
        self._cache.pop(subject, None)
        result = await conn.execute(
            sa.delete(subject_keys).where(subject_keys.c.subject == subject)
        )
        return bool(result.rowcount)


def seal(data: dict[str, Any], fields: Collection[str], subject: str, key: bytes) -> dict[str, Any]:
    """Moves `fields` of `data` into one sealed document."""
    personal = {name: data.pop(name) for name in fields if name in data}
    nonce = os.urandom(12)
    plain = orjson.dumps(personal, default=json_default)
    ciphertext = _cipher(key).encrypt(nonce, plain, subject.encode())
    data[SEALED] = {"s": subject, "c": base64.b64encode(nonce + ciphertext).decode()}
    return data


def unseal(data: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Puts the sealed fields back; raises ValueError when they cannot be opened."""
    sealed = data.pop(SEALED)
    raw = binascii.a2b_base64(sealed["c"])
    try:
        personal = orjson.loads(_cipher(key).decrypt(raw[:12], raw[12:], sealed["s"].encode()))
    except InvalidTag as err:
        raise ValueError(f"sealed fields of subject {sealed['s']!r} do not open") from err
    data.update(personal)
    return data


@functools.lru_cache(maxsize=4096)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)
