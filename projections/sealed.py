"""Personal fields read straight from the sealed events, for read models that keep none.

A read model that copied subjects, addresses or texts into its rows would keep them after
their data subject's key is erased (crypto-shredding, invariant 8), until a rebuild. The
timeline keeps only positions and names the fields it shows; when a page is read, this
module opens exactly those events in one query (plus one for their keys). An erased
subject's events open to nothing: the page shows the entry without its personal fields.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import default_codec
from hub.store.crypto import SEALED, key_ref, keys_by_ref, unseal
from hub.store.schema import events

log = logging.getLogger(__name__)
_CODEC = default_codec()  # to raise old event data to the current schema


async def personal_fields(
    conn: AsyncConnection, positions: Collection[int], fields: Collection[str] | None = None
) -> dict[int, dict[str, Any]]:
    """Each event's data with its sealed fields opened (`fields` only, when given).

    Missing from the result: events that do not exist or cannot be read. Present but without
    its personal fields: an event whose subject was erased.
    """
    if not positions:
        return {}
    rows = await conn.execute(
        sa.select(events.c.position, events.c.type, events.c.data, events.c.metadata).where(
            events.c.position.in_(list(positions))
        )
    )
    documents: dict[int, tuple[str, int, dict[str, Any]]] = {}
    for position, name, raw, meta in rows:
        try:
            data, version = orjson.loads(raw), int(orjson.loads(meta).get("schema_version", 1))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            log.error("event at position %d is unreadable", position)
            continue
        if isinstance(data, dict):
            documents[int(position)] = (name, version, data)
    refs = {key_ref(d[SEALED]) for _, _, d in documents.values() if _sealed(d)}
    keys = await keys_by_ref(conn, refs) if refs else {}
    out: dict[int, dict[str, Any]] = {}
    for position, (name, version, data) in documents.items():
        try:
            opened = _CODEC.upcast(name, version, _open(position, data, keys))
        except LookupError as err:
            log.error("event at position %d cannot be read: %s", position, err)
            continue
        out[position] = opened if fields is None else {f: opened[f] for f in fields if f in opened}
    return out


def _sealed(data: dict[str, Any]) -> bool:
    return isinstance(data.get(SEALED), dict)


def _open(position: int, data: dict[str, Any], keys: dict[str, bytes]) -> dict[str, Any]:
    if not _sealed(data):
        return data
    key = keys.get(key_ref(data[SEALED]))
    if key is None:  # erased: the fields are gone for good
        data.pop(SEALED)
        return data
    try:
        return unseal(data, key)
    except (ValueError, KeyError, TypeError) as err:
        log.error("event at position %d: sealed fields do not open: %s", position, err)
        data.pop(SEALED, None)
        return data
